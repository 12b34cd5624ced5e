import type { APIGatewayProxyResult } from 'aws-lambda';

/** An error whose message is safe to show a caller; anything else becomes a generic 500. */
export class HttpError extends Error {
  constructor(readonly statusCode: number, readonly code: string, message: string) {
    super(message);
    this.name = new.target.name;
  }
}
export class BadRequestError extends HttpError {
  constructor(message: string) { super(400, 'BAD_REQUEST', message); }
}
export class ValidationError extends HttpError {
  constructor(message: string) { super(400, 'VALIDATION_FAILED', message); }
}
export class UnauthorizedError extends HttpError {
  constructor(message: string) { super(401, 'UNAUTHORIZED', message); }
}
export class NotFoundError extends HttpError {
  constructor(message = 'Resource not found') { super(404, 'NOT_FOUND', message); }
}
export class MethodNotAllowedError extends HttpError {
  constructor(message = 'Method not allowed') { super(405, 'METHOD_NOT_ALLOWED', message); }
}
export class ConflictError extends HttpError {
  constructor(message: string) { super(409, 'CONFLICT', message); }
}
export class PayloadTooLargeError extends HttpError {
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
