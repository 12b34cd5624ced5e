/**
 * Lambda's REST-JSON errors: an `x-amzn-ErrorType` header and a JSON body `{ Type, message }`.
 * The SDK reads each modelled error's members by their modelled names, and the model is not
 * uniform: some errors carry `Message`, others `message` (checked against
 * @aws-sdk/client-lambda's schema). Both are sent so every client finds its text.
 */
export type LambdaErrorType =
  | 'ResourceNotFoundException'
  | 'ResourceConflictException'
  | 'InvalidParameterValueException'
  | 'InvalidRequestContentException'
  | 'ValidationException'
  | 'PreconditionFailedException'
  | 'RequestTooLargeException'
  | 'TooManyRequestsException'
  | 'InvalidRuntimeException'
  | 'ServiceException';

const STATUS: Record<LambdaErrorType, number> = {
  ResourceNotFoundException: 404,
  ResourceConflictException: 409,
  InvalidParameterValueException: 400,
  InvalidRequestContentException: 400,
  ValidationException: 400,
  PreconditionFailedException: 412,
  RequestTooLargeException: 413,
  TooManyRequestsException: 429,
  InvalidRuntimeException: 502,
  ServiceException: 500,
};

export class LambdaError extends Error {
  readonly statusCode: number;
  constructor(
    readonly type: LambdaErrorType,
    message: string,
    /** Extra body members (TooManyRequestsException's `Reason`) and headers (`Retry-After`). */
    readonly extra: { body?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.statusCode = STATUS[type];
  }

  /** `Type` is `User` for a caller's mistake and `Service` for Lambda's own failure, as AWS sends it. */
  body(): Record<string, unknown> {
    const type = this.statusCode >= 500 ? 'Service' : 'User';
    return { Type: type, message: this.message, Message: this.message, ...this.extra.body };
  }
}

export const notFound = (arn: string) => new LambdaError('ResourceNotFoundException', `Function not found: ${arn}`);

/** The constraint message AWS's request validation gives (`1 validation error detected: ...`). */
export const invalid = (field: string, value: unknown, constraint: string) =>
  new LambdaError('ValidationException', `1 validation error detected: Value '${String(value)}' at '${field}' failed to satisfy constraint: ${constraint}`);

export const revisionMismatch = (what: string) =>
  new LambdaError('PreconditionFailedException', `The Revision Id provided does not match the latest Revision Id. Call the ${what} API to retrieve the latest Revision Id`);
