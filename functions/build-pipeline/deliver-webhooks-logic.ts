/**
 * One build event to its job's webhook: plain functions over (message, services). The
 * handler does the SQS parts (visibility, batch item failures) from the decision returned.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { recordDelivery, readDeliveryLog, FINAL_STATES, type DeliveryAttempt, type DeliveryLogServices, type DeliveryState } from './webhook-delivery-log';
import { activeSecrets, type WebhookSecretCache } from './webhook-secrets';
import {
  BUILD_EVENT_SOURCE, BUILD_JOBS_TABLE_SCHEMA as S, JOB_ID_PATTERN, type WebhookSettings,
} from '../../lib/build-pipeline/contract';
import { isConditionFailure } from '../shared/dynamodb-conditions';
import { envelopeSchema, type EventEnvelope } from '../shared/envelope';
import { deliver, nextDelay, type DeliveryResult, type GuardedAgentOptions } from '../shared/outbound-webhook';

/** SQS takes a visibility timeout up to 12 h; a minute is kept for the time since this receive. */
const SQS_MAX_VISIBILITY_MS = (43_200 - 60) * 1000;
const MAX_ERROR_CHARS = 256;

const payloadSchema = z.looseObject({ jobId: z.string().check(z.regex(JOB_ID_PATTERN)) });
const eventSchema = z.looseObject({ 'source': z.literal(BUILD_EVENT_SOURCE), 'detail-type': z.string(), 'detail': envelopeSchema(payloadSchema) });

/** A validated message: the envelope as sent (the webhook body), and its job. */
export interface BuildEventMessage {
  readonly envelope: EventEnvelope<{ jobId: string }>;
  /** The envelope exactly as the bus delivered it (zod drops nothing from it: loose objects). */
  readonly body: string;
  readonly jobId: string;
}

/** Parses an SQS body (an EventBridge event), or says why it is not a build event. */
export function parseDeliveryMessage(body: string): BuildEventMessage | { readonly invalid: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { invalid: 'body is not JSON' };
  }
  const result = eventSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    return { invalid: `not a build event: ${issue.path.map(String).join('.') || '(root)'}: ${issue.message}` };
  }
  const detail = (parsed as { detail: EventEnvelope<{ jobId: string }> }).detail;
  return { envelope: detail, body: JSON.stringify(detail), jobId: detail.payload.jobId };
}

export interface DeliverServices extends DeliveryLogServices {
  readonly settings: WebhookSettings;
  readonly secrets: Pick<WebhookSecretCache, 'get' | 'refetchIfChanged'>;
  readonly now: () => Date;
  /** Guard options beyond the production defaults: tests only (loopback receivers, a stub resolver, a test CA). */
  readonly guard?: Omit<GuardedAgentOptions, 'allowHttp'>;
  /** Jitter source; Math.random unless a test fixes it. */
  readonly random?: () => number;
}

/**
 * What the handler does with the message: `ack` (done, whatever the outcome), `retry` (change
 * visibility to `delayMs`, report a batch item failure), or `fail` (report a failure without
 * a delay: attempts spent, the queue's maxReceiveCount moves it to the DLQ).
 */
export type Decision =
  | { readonly action: 'ack'; readonly state?: DeliveryState; readonly reason: string }
  | { readonly action: 'retry'; readonly delayMs: number; readonly state: 'retrying'; readonly reason: string }
  | { readonly action: 'fail'; readonly state: 'exhausted'; readonly reason: string };

interface JobWebhook { readonly webhookUrl?: string; readonly webhookDisabled?: boolean; readonly ttl?: number }

async function readJobWebhook(jobId: string, services: DeliverServices): Promise<JobWebhook | undefined> {
  const { Item } = await services.db.send(new GetCommand({
    TableName: services.tableName,
    Key: { [S.partitionKey]: `JOB#${jobId}`, [S.sortKey]: 'JOB' },
    // Consistent: a 410 answered for an earlier event must stop this one.
    ConsistentRead: true,
    ProjectionExpression: 'webhookUrl, webhookDisabled, #ttl',
    ExpressionAttributeNames: { '#ttl': S.timeToLiveAttribute },
  }));
  return Item as JobWebhook | undefined;
}

/**
 * Sets only `webhookDisabled`, and only while the job still has the URL that answered 410.
 * The job's `version` is not bumped: it counts status changes (the payload's `jobVersion`,
 * which receivers order by), and the publisher emits on a status change only, so this write
 * makes no event (its stream MODIFY keeps the status) and leaves no gap in the versions.
 */
async function disableWebhook(jobId: string, url: string, services: DeliverServices): Promise<void> {
  try {
    await services.db.send(new UpdateCommand({
      TableName: services.tableName,
      Key: { [S.partitionKey]: `JOB#${jobId}`, [S.sortKey]: 'JOB' },
      UpdateExpression: 'SET webhookDisabled = :true',
      ConditionExpression: 'attribute_exists(#pk) AND webhookUrl = :url',
      ExpressionAttributeNames: { '#pk': S.partitionKey },
      ExpressionAttributeValues: { ':true': true, ':url': url },
    }));
  } catch (error) {
    if (!isConditionFailure(error)) throw error; // the job is gone or its URL changed: nothing to disable
  }
}

function attemptOf(result: DeliveryResult, at: Date): DeliveryAttempt {
  const error = result.error ? `${result.error.code}: ${result.error.message}`.slice(0, MAX_ERROR_CHARS) : undefined;
  return { at: at.toISOString(), statusCode: result.status, outcome: result.outcome, durationMs: result.durationMs, ...(error ? { error } : {}) };
}

async function attemptDelivery(message: BuildEventMessage, url: string, attempt: number, services: DeliverServices) {
  const { settings } = services;
  const send = async (secrets: string[]) => {
    const at = services.now();
    const result = await deliver({ url }, { id: message.envelope.eventId, body: message.body }, {
      ...services.guard,
      secrets,
      allowHttp: settings.allowHttp,
      connectTimeoutMs: Math.min(settings.timeoutMs, 5_000),
      totalTimeoutMs: settings.timeoutMs,
      attempt,
      now: () => at,
    });
    return { result, logged: attemptOf(result, at) };
  };
  const first = await send(activeSecrets(await services.secrets.get(), services.now()));
  if (first.result.status !== 401 && first.result.status !== 403) return { result: first.result, attempts: [first.logged] };
  // The receiver may already hold a rotated secret this container has not read yet: read it
  // again (rate limited) and, if it changed, send once more now with the new secrets.
  const fresh = await services.secrets.refetchIfChanged();
  if (!fresh) return { result: first.result, attempts: [first.logged] };
  const second = await send(activeSecrets(fresh, services.now()));
  return { result: second.result, attempts: [first.logged, second.logged] };
}

/** The decision for a failed, retryable attempt: a delay, or exhausted at maxAttempts. */
function retryDecision(result: DeliveryResult, attempt: number, settings: WebhookSettings, random?: () => number): Decision {
  const baseMs = Math.max(1, settings.baseDelayMs);
  const delayMs = nextDelay(attempt, {
    baseMs,
    capMs: Math.max(baseMs, Math.min(settings.maxDelayMs, SQS_MAX_VISIBILITY_MS)),
    maxAttempts: settings.maxAttempts,
    retryAfterMs: result.retryAfterMs,
    random,
  });
  const why = result.status ? `HTTP ${result.status}` : result.error?.code ?? 'no response';
  if (delayMs === undefined) return { action: 'fail', state: 'exhausted', reason: `${why}; ${attempt} attempts spent` };
  return { action: 'retry', delayMs, state: 'retrying', reason: why };
}

/**
 * Delivers one build event (attempt = the message's receive count). Never re-sends an event
 * the log calls delivered or gone; a job without a webhook, or disabled by an earlier 410, is
 * acked. 4xx other than 408/429, 3xx and refused destinations are acked, not retried: the same
 * request would meet the same answer (a bad URL, a receiver that refuses the payload, a private
 * address), and retrying would only spend the receiver's and our capacity until the DLQ.
 */
export async function deliverBuildEvent(message: BuildEventMessage, attempt: number, services: DeliverServices): Promise<Decision> {
  const { envelope, jobId } = message;
  const [job, log] = await Promise.all([readJobWebhook(jobId, services), readDeliveryLog(jobId, envelope.eventId, services)]);
  if (!job) return { action: 'ack', reason: 'job not found (expired or never written)' };
  if (!job.webhookUrl) return { action: 'ack', reason: 'job has no webhook' };
  if (log && FINAL_STATES.has(log.state)) return { action: 'ack', reason: `already ${log.state}` };
  const change = { jobId, eventId: envelope.eventId, eventType: envelope.eventType, ttl: job.ttl };
  if (job.webhookDisabled) {
    await recordDelivery({ ...change, state: 'skipped', at: services.now().toISOString() }, log, services);
    return { action: 'ack', state: 'skipped', reason: 'webhook disabled by an earlier 410' };
  }

  const { result, attempts } = await attemptDelivery(message, job.webhookUrl, attempt, services);
  let decision: Decision;
  switch (result.outcome) {
    case 'delivered': decision = { action: 'ack', state: 'delivered', reason: `HTTP ${result.status}` }; break;
    case 'gone':
      // Disabled before the log says gone: a crash in between leaves a redelivery that sees the job disabled.
      await disableWebhook(jobId, job.webhookUrl, services);
      decision = { action: 'ack', state: 'gone', reason: 'HTTP 410: webhook disabled for this job' };
      break;
    case 'rejected':
    case 'redirected': decision = { action: 'ack', state: 'rejected', reason: `HTTP ${result.status} (${result.outcome}, not retried)` }; break;
    case 'blocked': decision = { action: 'ack', state: 'blocked', reason: result.error?.message ?? 'destination refused' }; break;
    default: decision = retryDecision(result, attempt, services.settings, services.random);
  }
  await recordDelivery({ ...change, state: decision.state!, attempts, at: attempts[attempts.length - 1].at }, log, services);
  return decision;
}
