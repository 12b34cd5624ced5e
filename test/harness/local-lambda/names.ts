import { invalid, LambdaError } from './errors';

export const ACCOUNT = '000000000000';

/** Lambda's reserved environment keys: CreateFunction refuses them, the runtime sets them. */
export const RESERVED_ENV_KEYS = new Set([
  '_HANDLER', '_X_AMZN_TRACE_ID', 'AWS_DEFAULT_REGION', 'AWS_REGION', 'AWS_EXECUTION_ENV', 'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 'AWS_LAMBDA_FUNCTION_VERSION', 'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME', 'AWS_LAMBDA_LOG_STREAM_NAME', 'AWS_ACCESS_KEY', 'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_LAMBDA_RUNTIME_API', 'LAMBDA_TASK_ROOT', 'LAMBDA_RUNTIME_DIR',
]);

const NAME = /^[a-zA-Z0-9-_]{1,64}$/;
// FunctionName may be `name`, `name:qualifier`, `account:function:name[:qualifier]` or the full ARN.
const ARN = /^(?:arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:)?(?:\d{12}:function:)?([a-zA-Z0-9-_]+)(?::(\$LATEST|[a-zA-Z0-9-_]+))?$/;

export interface FunctionRef {
  readonly name: string;
  readonly qualifier?: string;
}

/** Splits a FunctionName path parameter the way Lambda reads it; a qualifier in both places must agree. */
export function parseFunctionName(raw: string, queryQualifier?: string): FunctionRef {
  const match = ARN.exec(raw);
  if (!match || !NAME.test(match[1])) {
    throw invalid('functionName', raw, 'Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?');
  }
  const fromName = match[2];
  if (fromName && queryQualifier && fromName !== queryQualifier) {
    throw new LambdaError('InvalidParameterValueException', 'The derived qualifier from the function name does not match the specified qualifier.');
  }
  return { name: match[1], qualifier: queryQualifier || fromName || undefined };
}

export const functionArn = (region: string, name: string, qualifier?: string) =>
  `arn:aws:lambda:${region}:${ACCOUNT}:function:${name}${qualifier ? `:${qualifier}` : ''}`;

export const isVersionNumber = (q: string) => /^[0-9]+$/.test(q);

const RUNTIME = /^(nodejs\d+\.x|python3\.\d+|java\d+(\.al2)?|dotnet\d+|dotnetcore\d\.\d|ruby\d\.\d+|go1\.x|provided(\.al2(023)?)?)$/;

export function validateRuntime(runtime: unknown): string {
  if (typeof runtime !== 'string' || !RUNTIME.test(runtime)) throw invalid('runtime', runtime, 'Member must satisfy enum value set of the Lambda runtimes');
  return runtime;
}

export const isNodeRuntime = (runtime: string) => runtime.startsWith('nodejs');

export function validateRole(role: unknown): string {
  if (typeof role !== 'string' || !/^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/.test(role)) {
    throw invalid('role', role, 'Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+');
  }
  return role;
}

export function validateRange(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(field, value, `Member must have value ${value !== undefined && Number(value) < min ? `greater than or equal to ${min}` : `less than or equal to ${max}`}`);
  }
  return value;
}

/** Lambda's checks on Environment.Variables: reserved keys, key pattern, 4 KB in all. */
export function validateEnvironment(env: { Variables?: Record<string, string> } | undefined): Record<string, string> {
  const variables = env?.Variables ?? {};
  const reserved = Object.keys(variables).filter((k) => RESERVED_ENV_KEYS.has(k));
  if (reserved.length > 0) {
    throw new LambdaError('InvalidParameterValueException', `Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: ${reserved.join(', ')}`);
  }
  const badKey = Object.keys(variables).find((k) => !/^[a-zA-Z]([a-zA-Z0-9_])+$/.test(k));
  if (badKey) throw invalid('environment.variables', badKey, 'Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+');
  if (Buffer.byteLength(JSON.stringify(variables)) > 4096) {
    throw new LambdaError('InvalidParameterValueException', 'Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit.');
  }
  return { ...variables };
}
