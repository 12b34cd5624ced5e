/**
 * The invoke path of LambdaRuntimeService (`POST /v1.0/functions/{name}/invoke`), as a function
 * the API handler calls: it answers an HTTP-shaped result and never throws for anything a caller
 * or a function can cause, so the API never answers an unhandled 500.
 *
 * The order of a synchronous call, and its AWS calls (warm container, steady traffic):
 * 1. metadata from the container's cache (a miss: one GetItem on the registry); unknown or deleted → 404;
 * 2. payload size and JSON checked before anything is spent (413 / 400);
 * 3. the rate limit: one conditional UpdateItem (up to 3 under a race); refused → 429 + Retry-After, audited;
 * 4. Invoke `{prefix}-{name}:live` (the alias, never the cached version: deploys and rollbacks move it);
 * 5. one audit PutItem with duration, executed version and status.
 * So 3 AWS calls on a cache hit, 4 on a miss.
 *
 * Async (`Event`): the audit item is written `pending` BEFORE the Invoke, so the id handed out in the
 * 202 is readable at once (`GET /v1.0/invocations/{id}`) and never names an invocation nobody recorded;
 * if Lambda refuses the Invoke, that item is finished with the refusal instead. Once Lambda accepted it,
 * its request id (the `x-amzn-RequestId` its destination records will name) is linked to the item in
 * one transaction (pointer + `requestId`/`callbackUrl` on the item): the completion handler follows it.
 */
import { randomUUID } from 'node:crypto';
import { InvokeCommand, type InvokeCommandOutput, type LambdaClient } from '@aws-sdk/client-lambda';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { completeInvocation, linkLambdaRequest, recordInvocation, type AuditServices, type InvocationOutcome } from './invocation-audit';
import { MetadataCache, type CacheStats } from './metadata-cache';
import type { RateLimiter } from './rate-limiter';
import { getFunction, type RegistryServices } from './registry-store';
import {
  awsFunctionName, DEFAULT_RUNTIME_SETTINGS, FUNCTION_NAME_PATTERN, InvocationStatus, LambdaRuntimeErrors, LIVE_ALIAS,
  type FunctionRecord, type InvocationStatusValue, type RuntimeSettings,
} from '../../lib/lambda-runtime-service/contract';
import { jsonResponse } from '../shared/errors';

/** Lambda's request payload limits: 6 MB synchronous; 256 KB is the classic Event limit, kept as the platform's. */
export const INVOKE_PAYLOAD_LIMITS = { syncBytes: 6 * 1024 * 1024, asyncBytes: 256 * 1024 } as const;

export interface InvokeServices {
  readonly lambda: LambdaClient;
  /** The platform prefix: the AWS function is `{prefix}-{name}`. */
  readonly functionPrefix: string;
  readonly cache: MetadataCache<FunctionRecord>;
  readonly rateLimiter: RateLimiter;
  readonly audit: AuditServices;
  /** Wall clock for `startedAt` and durations (injected in tests). @default Date.now */
  readonly nowMs?: () => number;
  /** Invocation ids (injected in tests). @default randomUUID */
  readonly newId?: () => string;
  /** Told when an audit write failed after the invocation ran: the caller still gets the function's answer. */
  readonly onAuditFailure?: (error: unknown, invocationId: string) => void;
  /** Told when Lambda refused or did not answer an Invoke (the caller gets a mapped status; the cause is only here). */
  readonly onLambdaError?: (error: unknown, invocationId: string) => void;
}

export interface InvokeOptions {
  readonly mode: 'sync' | 'async';
  readonly correlationId: string;
  /** Async only: where the completion POSTs the result (validated by the API handler; the SSRF guard runs at delivery). */
  readonly callbackUrl?: string;
}

export interface InvokeResult extends APIGatewayProxyResult {
  /** The audit id of this call, when one was recorded (every call past the 404 and payload checks). */
  readonly invocationId?: string;
  /** The audit status recorded, for the handler's metrics (invocations, errors, throttles). */
  readonly status?: InvocationStatusValue;
  readonly durationMs?: number;
  /** The function itself failed (Lambda's `FunctionError`), as opposed to a refusal or a throttle. */
  readonly functionError?: boolean;
}

/** The registry behind a container's cache: live functions only (deleted ones read as absent). */
export function createFunctionCache(
  registry: RegistryServices, settings: Partial<RuntimeSettings> = {}, nowMs?: () => number,
): MetadataCache<FunctionRecord> {
  const s = { ...DEFAULT_RUNTIME_SETTINGS, ...settings };
  return new MetadataCache<FunctionRecord>({
    load: (name) => getFunction(name, registry),
    ttlMs: s.metadataCacheTtlSeconds * 1000,
    negativeTtlMs: s.metadataNegativeCacheTtlSeconds * 1000,
    nowMs,
  });
}

/** The cache's hit and miss counts since the last call (reset): one metric per invocation adds up across containers. */
export const takeCacheStats = (services: Pick<InvokeServices, 'cache'>): CacheStats => services.cache.takeStats();

const problem = (statusCode: number, code: string, message: string, correlationId: string, headers: Record<string, string> = {}) =>
  jsonResponse(statusCode, { error: { code, message, correlationId } }, correlationId, headers);

/** The registry or the rate bucket did not answer (DynamoDB throttled or down): a retryable 503, not a 500. */
const unavailable = (correlationId: string) =>
  problem(503, 'SERVICE_UNAVAILABLE', 'The function registry did not answer; retry later', correlationId, { 'Retry-After': '1' });

/** What Lambda answered, reduced to what the API and the audit need. */
interface Answer {
  readonly response: APIGatewayProxyResult;
  readonly outcome: Omit<InvocationOutcome, 'durationMs' | 'finishedAt'>;
  readonly functionError?: boolean;
}

/** A sandbox timeout is an error to the caller, but its own status in the audit. */
const statusOfFunctionError = (errorType: string): InvocationStatusValue =>
  (errorType === 'Sandbox.Timedout' ? InvocationStatus.TIMEOUT : InvocationStatus.ERROR);

function functionErrorAnswer(out: InvokeCommandOutput, correlationId: string): Answer {
  const text = Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8');
  let parsed: { errorType?: unknown; errorMessage?: unknown } = {};
  try { parsed = JSON.parse(text) ?? {}; } catch { /* a runtime crash can answer a non-JSON body */ }
  // Only these two fields leave: the trace names files and lines of the user's code and of the runtime.
  const errorType = typeof parsed.errorType === 'string' ? parsed.errorType : (out.FunctionError ?? 'Unhandled');
  const errorMessage = typeof parsed.errorMessage === 'string' ? parsed.errorMessage : 'The function failed without an error message';
  return {
    response: jsonResponse(502, { errorType, errorMessage }, correlationId),
    outcome: { status: statusOfFunctionError(errorType), errorType, errorMessage, version: out.ExecutedVersion },
    functionError: true,
  };
}

/** An Invoke that Lambda refused (the SDK threw): mapped by the error's name, never to a bare 500. */
function refusalAnswer(error: unknown, name: string, correlationId: string): Answer {
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const errorType = typeof e?.name === 'string' ? e.name : 'Error';
  const status = e?.$metadata?.httpStatusCode;
  type Headers = Record<string, string>;
  const refused = (statusCode: number, code: string, message: string, audit: InvocationStatusValue, headers: Headers = {}): Answer => ({
    response: problem(statusCode, code, message, correlationId, headers),
    outcome: { status: audit, errorType, errorMessage: message },
  });
  switch (errorType) {
    case 'TooManyRequestsException':
      // Reserved concurrency or the account's limit: the same answer as the platform's own limit.
      return refused(429, LambdaRuntimeErrors.RATE_LIMITED, `The function '${name}' is at its concurrency limit; retry later`,
        InvocationStatus.THROTTLED, { 'Retry-After': '1' });
    case 'ResourceNotFoundException':
      // Registered but no AWS function or no `live` alias yet: nothing was deployed.
      return refused(404, LambdaRuntimeErrors.FUNCTION_NOT_FOUND, `The function '${name}' has no deployment to invoke`, InvocationStatus.ERROR);
    case 'RequestTooLargeException':
      return refused(413, 'PAYLOAD_TOO_LARGE', 'The payload is larger than Lambda accepts', InvocationStatus.ERROR);
    case 'InvalidRequestContentException':
      return refused(400, 'BAD_REQUEST', 'The payload must be JSON', InvocationStatus.ERROR);
    default:
      break;
  }
  // Lambda's own failures (5xx, or no answer at all: a network error has no status) are worth a retry;
  // anything else is the function's setup failing (runtime, ENI, KMS...) and says so without details.
  if (status === undefined || status >= 500) {
    return refused(503, 'LAMBDA_UNAVAILABLE', 'Lambda did not answer the invocation; retry later', InvocationStatus.ERROR, { 'Retry-After': '1' });
  }
  return refused(502, 'FUNCTION_NOT_INVOCABLE', `Lambda refused to run the function '${name}' (${errorType})`, InvocationStatus.ERROR);
}

/**
 * Invokes a registered function: sync answers the function's payload (200) or its error (502);
 * async answers 202 `{ invocationId }`. See the module comment for the order and its AWS calls.
 */
export async function invokeFunction(
  name: string, payload: string | Uint8Array | undefined, options: InvokeOptions, services: InvokeServices,
): Promise<InvokeResult> {
  const { correlationId, mode } = options;
  const nowMs = services.nowMs ?? Date.now;
  if (mode !== 'sync' && mode !== 'async') return problem(400, 'VALIDATION_FAILED', "mode: 'sync' or 'async'", correlationId);
  // A name outside the platform's rules can never be registered: 404 without a read.
  let record: FunctionRecord | undefined;
  try {
    record = typeof name === 'string' && FUNCTION_NAME_PATTERN.test(name) ? await services.cache.get(name) : undefined;
  } catch {
    return unavailable(correlationId);
  }
  if (!record || record.deletedAt) return problem(404, LambdaRuntimeErrors.FUNCTION_NOT_FOUND, `No function named '${name}'`, correlationId);

  // Checked before the rate limit and Lambda: an oversize or non-JSON body costs nothing but this.
  const body = payload === undefined || payload.length === 0 ? Buffer.from('{}') : Buffer.from(payload);
  const limit = mode === 'sync' ? INVOKE_PAYLOAD_LIMITS.syncBytes : INVOKE_PAYLOAD_LIMITS.asyncBytes;
  if (body.length > limit) {
    return problem(413, 'PAYLOAD_TOO_LARGE', `A ${mode} invocation's payload is at most ${limit} bytes; this one is ${body.length}`, correlationId);
  }
  try { JSON.parse(body.toString('utf8')); } catch { return problem(400, 'BAD_REQUEST', 'The payload must be JSON', correlationId); }

  const invocationId = (services.newId ?? randomUUID)();
  const startMs = nowMs();
  const base = { invocationId, functionName: name, mode, startedAt: new Date(startMs).toISOString(), correlationId } as const;

  let decision: Awaited<ReturnType<RateLimiter['take']>>;
  try {
    decision = await services.rateLimiter.take(name, record.rateLimit);
  } catch {
    // The limit cannot be decided: refusing is safer than running user code unlimited.
    return unavailable(correlationId);
  }
  if (!decision.allowed) {
    const message = `The function '${name}' is over its rate limit; retry in ${decision.retryAfterSeconds} s`;
    await auditSafely(services, invocationId, () => recordInvocation({
      ...base,
      status: InvocationStatus.THROTTLED,
      durationMs: 0,
      errorType: LambdaRuntimeErrors.RATE_LIMITED,
      errorMessage: message,
      version: record.currentDeployment?.lambdaVersion,
    }, services.audit));
    return {
      ...problem(429, LambdaRuntimeErrors.RATE_LIMITED, message, correlationId, { 'Retry-After': String(decision.retryAfterSeconds) }),
      invocationId,
      status: InvocationStatus.THROTTLED,
      durationMs: 0,
    };
  }

  const command = new InvokeCommand({
    FunctionName: awsFunctionName(services.functionPrefix, name),
    Qualifier: LIVE_ALIAS,
    InvocationType: mode === 'sync' ? 'RequestResponse' : 'Event',
    Payload: body,
  });

  if (mode === 'async') return invokeAsync(name, command, base, options.callbackUrl, services);

  let answer: Answer;
  try {
    const out = await services.lambda.send(command);
    answer = out.FunctionError
      ? functionErrorAnswer(out, correlationId)
      : {
        // The function's JSON as it answered it: not parsed and serialized again.
        response: {
          statusCode: 200,
          headers: { 'content-type': 'application/json', 'x-correlation-id': correlationId },
          body: Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8') || 'null',
        },
        outcome: { status: InvocationStatus.SUCCESS, version: out.ExecutedVersion },
      };
  } catch (error) {
    services.onLambdaError?.(error, invocationId);
    answer = refusalAnswer(error, name, correlationId);
  }
  const endMs = nowMs();
  const durationMs = Math.max(0, endMs - startMs);
  await auditSafely(services, invocationId, () => recordInvocation({
    ...base, ...answer.outcome, durationMs, finishedAt: new Date(endMs).toISOString(),
  }, services.audit));
  return { ...answer.response, invocationId, status: answer.outcome.status, durationMs, functionError: answer.functionError };
}

async function invokeAsync(
  name: string, command: InvokeCommand,
  base: { invocationId: string; functionName: string; mode: 'sync' | 'async'; startedAt: string; correlationId: string },
  callbackUrl: string | undefined, services: InvokeServices,
): Promise<InvokeResult> {
  const { invocationId, correlationId } = base;
  // Written first, and not "safely": an id we cannot record is not handed out (503 below, nothing invoked).
  try {
    await recordInvocation({ ...base, status: InvocationStatus.PENDING }, services.audit);
  } catch {
    return problem(503, 'AUDIT_UNAVAILABLE', 'The invocation could not be recorded; nothing was invoked, retry later', correlationId, { 'Retry-After': '1' });
  }
  let requestId: string | undefined;
  try {
    requestId = (await services.lambda.send(command)).$metadata.requestId;
  } catch (error) {
    services.onLambdaError?.(error, invocationId);
    const answer = refusalAnswer(error, name, correlationId);
    const nowMs = services.nowMs ?? Date.now;
    await auditSafely(services, invocationId, () => completeInvocation(invocationId, {
      ...answer.outcome, durationMs: 0, finishedAt: new Date(nowMs()).toISOString(),
    }, services.audit));
    return { ...answer.response, invocationId, status: answer.outcome.status };
  }
  // The function runs now whatever happens here: a failed link is reported, and the completion then
  // records the result under the request id once its grace for this write has passed.
  if (requestId) {
    const link = { invocationId, requestId, startedAt: base.startedAt, callbackUrl };
    await auditSafely(services, invocationId, () => linkLambdaRequest(link, services.audit));
  } else {
    services.onAuditFailure?.(new Error('Lambda accepted the invocation without a request id'), invocationId);
  }
  return {
    ...jsonResponse(202, { invocationId }, correlationId, { Location: `/v1.0/invocations/${invocationId}` }),
    invocationId,
    status: InvocationStatus.PENDING,
  };
}

/** The function already ran (or was refused): a failed audit write is reported, never turned into the caller's error. */
async function auditSafely(services: InvokeServices, invocationId: string, write: () => Promise<unknown>): Promise<void> {
  try {
    await write();
  } catch (error) {
    services.onAuditFailure?.(error, invocationId);
  }
}
