import { GetCommand, PutCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ledgerSk, outboxItem, paymentPk, STATE_SK, stateItem, toState } from './payment-items';
import { decide, type PaymentState, type PaymentStatus, type ProviderEvent } from './payment-state';
import { PAYMENT_EVENT_SOURCE } from '../../lib/payment-outbox/contract';
import { isConditionFailure } from '../shared/dynamodb-conditions';
import { createEvent } from '../shared/envelope';
import { ConflictError, HttpError } from '../shared/errors';

export interface RecordServices {
  readonly db: DynamoDBDocumentClient;
  readonly tableName: string;
  /** How long outbox records live before TTL removes them. */
  readonly outboxRetentionSeconds: number;
  readonly now: () => Date;
  /** How contended writes are retried; {@link DEFAULT_RETRY} by default. */
  readonly retry?: RetryPolicy;
}

/** What the webhook answers for a provider event; stored with it, so a redelivery gets the same answer. */
export type RecordOutcome =
  | { readonly outcome: 'applied'; readonly status: PaymentStatus; readonly outboxEventId?: string }
  | { readonly outcome: 'ignored'; readonly reason: string }
  | { readonly outcome: 'refused'; readonly reason: string; readonly message: string };

export interface RecordResult {
  readonly response: RecordOutcome;
  /** The provider event was recorded before: nothing was written this time. */
  readonly duplicate: boolean;
}

/**
 * 409: a refund for a payment whose success is not recorded yet. Nothing is written, so
 * the provider's retry (providers retry non-2xx answers for hours to days) applies it once
 * the success has arrived.
 */
export class RefundBeforeSuccessError extends HttpError {
  constructor(message: string) { super(409, 'PAYMENT_NOT_SUCCEEDED_YET', message); }
}

export interface RetryPolicy {
  /**
   * Optimistic concurrency: a lost race re-reads and decides again, up to this many times;
   * then the provider is asked to retry (409) rather than blocking the webhook.
   */
  readonly maxAttempts: number;
  /** Full-jitter backoff between attempts: random in [0, min(cap, base · 2^attempt)) ms. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

// Partial refunds of one payment arrive in bursts and all update its state item, so a
// contended write is retried a few times, spread out, before the 409 (worst case ~1.5 s).
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 10, maxDelayMs: 400 };
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The event payload consumers get: the payment as it now stands (and, for a refund, the refund). */
function paymentPayload(next: PaymentState, event: ProviderEvent) {
  return {
    paymentId: next.paymentId,
    status: next.status,
    amount: next.amount,
    currency: next.currency,
    refundedAmount: next.refundedAmount,
    ...(event.kind === 'refunded' ? { refundAmount: event.refundAmount } : {}),
    providerEventId: event.eventId,
    ...(next.metadata ? { metadata: next.metadata } : {}),
  };
}

/**
 * Records one verified provider event: the payment state, the provider-event ledger entry
 * (holding the answer given) and, for announced changes, the outbox record are written
 * in ONE transaction, conditional on the state read (its last transition and its refunded
 * total), so concurrent or redelivered webhooks change nothing twice and get the first
 * answer again. The ledger entry, keyed on the provider event id, is what makes each
 * refund count once whatever its order.
 */
export async function recordProviderEvent(services: RecordServices, event: ProviderEvent): Promise<RecordResult> {
  const { db, tableName } = services;
  const retry = services.retry ?? DEFAULT_RETRY;
  const pk = paymentPk(event.paymentId);
  for (let attempt = 0; attempt < retry.maxAttempts; attempt++) {
    if (attempt > 0) await sleep(Math.random() * Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** attempt));
    const [state, ledger] = await Promise.all([
      db.send(new GetCommand({ TableName: tableName, Key: { PK: pk, SK: STATE_SK }, ConsistentRead: true })),
      db.send(new GetCommand({ TableName: tableName, Key: { PK: pk, SK: ledgerSk(event.eventId) }, ConsistentRead: true })),
    ]);
    if (ledger.Item) return { response: ledger.Item.response as RecordOutcome, duplicate: true };
    const current = toState(state.Item);
    const decision = decide(current, event);
    const recordedAt = services.now().toISOString();
    const ledgerEntry = { PK: pk, SK: ledgerSk(event.eventId), recordType: 'PROVIDER_EVENT', kind: event.kind, occurredAt: event.occurredAt, recordedAt };

    if (decision.decision === 'retry') throw new RefundBeforeSuccessError(decision.message);
    if (decision.decision === 'ignore' || decision.decision === 'refuse') {
      // Recorded, so an operator sees what the provider sent and why nothing changed. Both
      // are final: a later read could not decide otherwise (times and refunds only grow).
      const response: RecordOutcome = decision.decision === 'ignore'
        ? { outcome: 'ignored', reason: decision.reason }
        : { outcome: 'refused', reason: decision.reason, message: decision.message };
      try {
        await db.send(new PutCommand({
          TableName: tableName,
          Item: { ...ledgerEntry, response },
          ConditionExpression: 'attribute_not_exists(PK)',
        }));
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        continue; // a concurrent delivery recorded it first: answer what it answered
      }
      return { response, duplicate: false };
    }

    const next = decision.next;
    const outboxEvent = decision.eventType
      ? createEvent({
        eventType: decision.eventType,
        correlationId: next.paymentId,
        source: PAYMENT_EVENT_SOURCE,
        payload: paymentPayload(next, event),
      })
      : undefined;
    const response: RecordOutcome = { outcome: 'applied', status: next.status, ...(outboxEvent ? { outboxEventId: outboxEvent.eventId } : {}) };
    // The state as read: its last transition and its refunded total (every refund raises it).
    const stateCondition = current
      ? {
        ConditionExpression: 'lastProviderEventId = :seen AND refundedAmount = :refunded',
        ExpressionAttributeValues: { ':seen': current.lastProviderEventId, ':refunded': current.refundedAmount },
      }
      : { ConditionExpression: 'attribute_not_exists(PK)' };
    try {
      await db.send(new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: tableName, Item: stateItem(next, recordedAt), ...stateCondition } },
          { Put: { TableName: tableName, Item: { ...ledgerEntry, response }, ConditionExpression: 'attribute_not_exists(PK)' } },
          ...(outboxEvent
            ? [{ Put: { TableName: tableName, Item: outboxItem(outboxEvent, next.paymentId, services.outboxRetentionSeconds), ConditionExpression: 'attribute_not_exists(PK)' } }]
            : []),
        ],
      }));
      return { response, duplicate: false };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // Someone else changed the payment (or recorded this event) first: read and decide again.
    }
  }
  throw new ConflictError(`Payment ${event.paymentId} is being updated concurrently; retry`);
}
