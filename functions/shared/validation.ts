import type * as z from 'zod/mini';
import { BadRequestError, PayloadTooLargeError, ValidationError } from './errors';

/** Bodies above this are refused before parsing (API Gateway allows 10 MB; nothing here needs it). */
export const MAX_BODY_BYTES = 16 * 1024;

interface Issue {
  readonly code?: string;
  readonly message: string;
  readonly path?: ReadonlyArray<PropertyKey | { key: PropertyKey }>;
  readonly [detail: string]: unknown;
}

/**
 * zod/mini ships no locale (that is part of why it is small), so its default message is
 * "Invalid input"; say what is wrong from the issue's code instead.
 */
export function describeIssue(issue: Issue): string {
  if (issue.message && issue.message !== 'Invalid input') return issue.message;
  const unit = issue.origin === 'string' ? ' characters' : '';
  switch (issue.code) {
    case 'invalid_type': return `expected ${String(issue.expected)}`;
    case 'too_small': return `must be at least ${String(issue.minimum)}${unit}`;
    case 'too_big': return `must be at most ${String(issue.maximum)}${unit}`;
    case 'unrecognized_keys': return `unknown field(s) ${(issue.keys as string[]).map((k) => `'${k}'`).join(', ')}`;
    case 'invalid_format': return `must be a valid ${String(issue.format)}`;
    case 'invalid_value': return `must be one of ${JSON.stringify(issue.values)}`;
    default: return 'is invalid';
  }
}

export function issuePath(issue: Issue): string {
  return (issue.path ?? []).map((p) => String(typeof p === 'object' ? p.key : p)).join('.');
}

/** Validates, or throws a 400 naming the first offending field. */
export function validate<S extends z.core.$ZodType>(schema: S, input: unknown, what = 'body'): z.infer<S> {
  const result = (schema as any)['~standard'].validate(input) as { value?: unknown; issues?: ReadonlyArray<Issue> };
  if (result.issues && result.issues.length > 0) {
    const issue = result.issues[0];
    const path = issuePath(issue);
    throw new ValidationError(`Invalid ${what}${path ? ` field '${path}'` : ''}: ${describeIssue(issue)}`);
  }
  return result.value as z.infer<S>;
}

/** Parses a JSON body with a size cap: 413 if too big, 400 if absent or not JSON. */
export function parseJsonBody(body: string | null | undefined, isBase64Encoded = false): unknown {
  if (body === null || body === undefined || body === '') throw new BadRequestError('A JSON request body is required');
  const text = isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
  if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES) {
    throw new PayloadTooLargeError(`Request body exceeds ${MAX_BODY_BYTES} bytes`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequestError('Request body is not valid JSON');
  }
}
