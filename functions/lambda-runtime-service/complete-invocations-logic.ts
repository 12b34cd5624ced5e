/**
 * One Lambda destination record (an async invocation finished) → the invocation audit, then the
 * callback. Plain functions over (record, services); the SQS handler does visibility and failures
 * from the decision returned.
 *
 * Records come on-success straight from Lambda to the results queue, and on-failure through an SNS
 * topic with raw message delivery (so the body is the same JSON; a non-raw SNS envelope is unwrapped
 * too). Lambda names the request id only: the invoke handler's pointer `LAMBDA_REQUEST#{requestId}`
 * leads to the invocation id. No pointer means either the platform did not start the invocation (a
 * schedule, a direct Invoke: recorded now under the request id) or the invoke handler is still
 * writing it (its Invoke returned a moment ago): within a grace after the record's timestamp the
 * record is retried, after it the first reading wins.
 */
import type { CallbackServices, CallbackBody, CallbackDecision } from './callback-delivery';
import { sendCallback } from './callback-delivery';
import {
  completeInvocation, FINAL_CALLBACK_STATES, getInvocation, invocationIdOfRequest, recordCallback, recordInvocation,
  type AuditServices, type InvocationOutcome, type InvocationRecord,
} from './invocation-audit';
import { FUNCTION_NAME_PATTERN, INVOCATION_ID_PATTERN, InvocationStatus } from '../../lib/lambda-runtime-service/contract';

/** How long a record without a pointer waits for the invoke handler's write (it follows the Invoke within its own timeout). */
export const POINTER_GRACE_MS = 30_000;

/** Lambda's invocation record (destination `Message` / SQS body), the fields read here. */
export interface DestinationRecord {
  readonly version: string;
  readonly timestamp: string;
  readonly requestContext: {
    readonly requestId: string;
    readonly functionArn: string;
    readonly condition: string;
    readonly approximateInvokeCount: number;
  };
  readonly requestPayload?: unknown;
  readonly responseContext?: { readonly statusCode?: number; readonly executedVersion?: string; readonly functionError?: string };
  readonly responsePayload?: unknown;
}

/** Parses a results-queue body, or says why it is not a destination record. */
export function parseDestinationRecord(body: string): DestinationRecord | { readonly invalid: string } {
  let parsed: any;
  try { parsed = JSON.parse(body); } catch { return { invalid: 'body is not JSON' }; }
  // An SNS subscription without raw delivery wraps the record in a notification.
  if (parsed?.Type === 'Notification' && typeof parsed.Message === 'string') {
    try { parsed = JSON.parse(parsed.Message); } catch { return { invalid: 'SNS message is not JSON' }; }
  }
  const context = parsed?.requestContext;
  if (!context || typeof context !== 'object') return { invalid: 'no requestContext' };
  if (typeof context.requestId !== 'string' || !INVOCATION_ID_PATTERN.test(context.requestId)) return { invalid: 'requestContext.requestId' };
  if (typeof context.functionArn !== 'string') return { invalid: 'requestContext.functionArn' };
  if (typeof context.condition !== 'string') return { invalid: 'requestContext.condition' };
  if (typeof parsed.timestamp !== 'string' || Number.isNaN(Date.parse(parsed.timestamp))) return { invalid: 'timestamp' };
  return parsed as DestinationRecord;
}

/** The registered name of `arn:...:function:{prefix}-{name}[:qualifier]`, or undefined when not the platform's. */
export function functionNameOfArn(functionArn: string, prefix: string): string | undefined {
  const awsName = functionArn.split(':')[6];
  if (!awsName?.startsWith(`${prefix}-`)) return undefined;
  const name = awsName.slice(prefix.length + 1);
  return FUNCTION_NAME_PATTERN.test(name) ? name : undefined;
}

const TIMEOUT_TYPES = new Set(['Sandbox.Timedout', 'Runtime.Timeout']);

/** The audit outcome of a record: success, error (a function error or a failure condition), or timeout. */
export function outcomeOf(record: DestinationRecord): Omit<InvocationOutcome, 'durationMs' | 'finishedAt'> {
  const version = record.responseContext?.executedVersion;
  const failed = record.requestContext.condition !== 'Success' || !!record.responseContext?.functionError;
  if (!failed) return { status: InvocationStatus.SUCCESS, version };
  const payload = (record.responsePayload && typeof record.responsePayload === 'object' ? record.responsePayload : {}) as Record<string, unknown>;
  const errorMessage = typeof payload.errorMessage === 'string' ? payload.errorMessage : undefined;
  const errorType = typeof payload.errorType === 'string'
    ? payload.errorType
    : record.responseContext?.functionError ?? record.requestContext.condition;
  const timedOut = TIMEOUT_TYPES.has(errorType) || /Task timed out after/.test(errorMessage ?? '');
  return { status: timedOut ? InvocationStatus.TIMEOUT : InvocationStatus.ERROR, errorType, errorMessage, version };
}

export interface CompleteServices {
  readonly audit: AuditServices;
  readonly functionPrefix: string;
  readonly callbacks: CallbackServices;
  readonly now: () => Date;
  /** @default POINTER_GRACE_MS */
  readonly pointerGraceMs?: number;
}

/**
 * `ack`: done (whatever the outcome); `retry`: change visibility to `delayMs` and report the record
 * failed; `fail`: report it failed with no delay (callback attempts spent: maxReceiveCount moves it to the DLQ).
 */
export type CompletionDecision =
  | { readonly action: 'ack'; readonly reason: string; readonly invocationId?: string; readonly callback?: CallbackDecision['state'] }
  | { readonly action: 'retry'; readonly delayMs: number; readonly reason: string; readonly invocationId?: string }
  | { readonly action: 'fail'; readonly reason: string; readonly invocationId: string };

const isoOf = (timestamp: string) => new Date(Date.parse(timestamp)).toISOString();

/** An invocation the platform did not start (no pointer after the grace): recorded, finished, under its request id. */
async function recordForeign(record: DestinationRecord, services: CompleteServices): Promise<CompletionDecision> {
  const name = functionNameOfArn(record.requestContext.functionArn, services.functionPrefix);
  if (!name) return { action: 'ack', reason: `not a platform function: ${record.requestContext.functionArn}` };
  const finishedAt = isoOf(record.timestamp);
  const created = await recordInvocation({
    invocationId: record.requestContext.requestId,
    functionName: name,
    mode: 'async',
    // Lambda's record says when it finished only: the start is not known.
    startedAt: finishedAt,
    finishedAt,
    ...outcomeOf(record),
  }, services.audit);
  return { action: 'ack', reason: created ? 'recorded (not started by the platform)' : 'already recorded', invocationId: record.requestContext.requestId };
}

function callbackBody(item: InvocationRecord, record: DestinationRecord): CallbackBody {
  const base = { invocationId: item.invocationId, functionName: item.functionName, status: item.status };
  return item.status === InvocationStatus.SUCCESS
    ? { ...base, result: record.responsePayload ?? null }
    : { ...base, error: { errorType: item.errorType, errorMessage: item.errorMessage } };
}

/**
 * Completes the invocation of one record (attempt = its receive count) and delivers its callback.
 * A redelivered record changes nothing in the audit (completion is conditional on `pending`) and never
 * re-sends a callback in a final state.
 */
export async function completeFromRecord(record: DestinationRecord, attempt: number, services: CompleteServices): Promise<CompletionDecision> {
  const { requestId } = record.requestContext;
  const invocationId = await invocationIdOfRequest(requestId, services.audit);
  if (!invocationId) {
    const remaining = Date.parse(record.timestamp) + (services.pointerGraceMs ?? POINTER_GRACE_MS) - services.now().getTime();
    if (remaining > 0) {
      // Soon first (the pointer usually lands within milliseconds), then at the end of the grace.
      return { action: 'retry', delayMs: attempt === 1 ? Math.min(remaining, 2_000) : remaining, reason: 'no pointer yet for this request id' };
    }
    return recordForeign(record, services);
  }

  let item = await getInvocation(invocationId, services.audit);
  if (!item) return { action: 'ack', reason: 'audit item gone (past its retention)', invocationId };
  if (item.status === InvocationStatus.PENDING) {
    const finishedAt = isoOf(record.timestamp);
    const durationMs = Math.max(0, Date.parse(finishedAt) - Date.parse(item.startedAt));
    item = await completeInvocation(invocationId, { ...outcomeOf(record), durationMs, finishedAt }, services.audit)
      ?? await getInvocation(invocationId, services.audit); // a concurrent duplicate finished it first
    if (!item) return { action: 'ack', reason: 'audit item gone', invocationId };
  }
  if (!item.callbackUrl) return { action: 'ack', reason: `completed ${item.status}`, invocationId };
  if (item.callbackState && FINAL_CALLBACK_STATES.has(item.callbackState)) {
    return { action: 'ack', reason: `callback already ${item.callbackState}`, invocationId, callback: item.callbackState };
  }

  const decision = await sendCallback(item.callbackUrl, callbackBody(item, record), attempt, services.callbacks);
  await recordCallback(invocationId, decision.state, services.audit, decision.reason);
  if (decision.state === 'retrying') return { action: 'retry', delayMs: decision.delayMs, reason: `callback: ${decision.reason}`, invocationId };
  if (decision.state === 'exhausted') return { action: 'fail', reason: `callback: ${decision.reason}`, invocationId };
  return { action: 'ack', reason: `callback ${decision.state}: ${decision.reason}`, invocationId, callback: decision.state };
}
