import type { z } from 'zod/mini';
import { BadRequestError, PayloadTooLargeError, ValidationError } from './errors';

/** Bodies above this are refused before parsing (API Gateway allows 10 MB; nothing here needs it). */
export const MAX_BODY_BYTES = 16 * 1024;

/** Validates, or throws a 400 naming the first offending field. */
export function validate<S extends z.core.$ZodType>(schema: S, input: unknown, what = 'body'): z.infer<S> {
  const result = (schema as any)['~standard'].validate(input) as { value?: unknown; issues?: ReadonlyArray<{ message: string; path?: ReadonlyArray<PropertyKey | { key: PropertyKey }> }> };
  if (result.issues && result.issues.length > 0) {
    const issue = result.issues[0];
    const path = (issue.path ?? []).map((p) => String(typeof p === 'object' ? p.key : p)).join('.');
    throw new ValidationError(`Invalid ${what}${path ? ` field '${path}'` : ''}: ${issue.message}`);
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
