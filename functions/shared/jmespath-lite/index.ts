/**
 * Stands in for `@aws-lambda-powertools/jmespath` in the handler bundles (an esbuild
 * alias, see lib/core/handler-bundling.ts). Powertools idempotency imports the full
 * JMESPath interpreter (~23 KB minified, a fifth of what the kit adds to a bundle) to read
 * its key path, and the library's key paths are plain field names (`eventId`). This
 * evaluates dotted field paths and refuses anything else loudly, so a richer expression
 * can never be evaluated wrongly: it fails the first test that uses it.
 */
const FIELD_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

export function search(expression: string, data: unknown, _options?: unknown): unknown {
  if (!FIELD_PATH.test(expression)) {
    throw new Error(`Handler bundles evaluate only dotted field paths as JMESPath expressions, got '${expression}'`);
  }
  let value: unknown = data;
  for (const field of expression.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
    value = (value as Record<string, unknown>)[field] ?? null;
  }
  return value;
}
