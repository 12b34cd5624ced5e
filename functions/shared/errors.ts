import type { APIGatewayProxyResult } from 'aws-lambda';

/**
 * An error whose message is safe to show a caller; anything else becomes a generic 500.
 * Each class names itself as a literal: bundles are minified, so a class's own name would
 * reach logs, Lambda's errorType and Step Functions' error matching as a mangled one.
 */
export class HttpError extends Error {
  override readonly name: string = 'HttpError';
  constructor(readonly statusCode: number, readonly code: string, message: string) {
    super(message);
  }
}
export class BadRequestError extends HttpError {
  override readonly name: string = 'BadRequestError';
  constructor(message: string) { super(400, 'BAD_REQUEST', message); }
}
export class ValidationError extends HttpError {
  override readonly name: string = 'ValidationError';
  constructor(message: string) { super(400, 'VALIDATION_FAILED', message); }
}
export class UnauthorizedError extends HttpError {
  override readonly name: string = 'UnauthorizedError';
  constructor(message: string) { super(401, 'UNAUTHORIZED', message); }
}
export class NotFoundError extends HttpError {
  override readonly name: string = 'NotFoundError';
  constructor(message = 'Resource not found') { super(404, 'NOT_FOUND', message); }
}
export class MethodNotAllowedError extends HttpError {
  override readonly name: string = 'MethodNotAllowedError';
  constructor(message = 'Method not allowed') { super(405, 'METHOD_NOT_ALLOWED', message); }
}
export class ConflictError extends HttpError {
  override readonly name: string = 'ConflictError';
  constructor(message: string) { super(409, 'CONFLICT', message); }
}
export class PayloadTooLargeError extends HttpError {
  override readonly name: string = 'PayloadTooLargeError';
  constructor(message: string) { super(413, 'PAYLOAD_TOO_LARGE', message); }
}

export function jsonResponse(statusCode: number, body: unknown, correlationId: string, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'x-correlation-id': correlationId, ...headers },
    body: body === undefined ? '' : JSON.stringify(body),
  };
}

/** Maps any thrown value to a problem response; never leaks a stack or an internal message. */
export function toProblemResponse(error: unknown, correlationId: string): APIGatewayProxyResult {
  const known = error instanceof HttpError;
  const statusCode = known ? error.statusCode : 500;
  const code = known ? error.code : 'INTERNAL_ERROR';
  const message = known ? error.message : 'An internal error occurred';
  return jsonResponse(statusCode, { error: { code, message, correlationId } }, correlationId);
}
