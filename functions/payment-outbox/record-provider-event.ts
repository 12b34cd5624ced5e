import { GetCommand, PutCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { PAYMENT_EVENT_SOURCE } from './payment-events';
import { ledgerSk, outboxItem, paymentPk, STATE_SK, stateItem, toState } from './payment-items';
import { decide, type PaymentState, type PaymentStatus, type ProviderEvent } from './payment-state';
import { isConditionFailure } from '../shared/dynamodb-conditions';
import { createEvent } from '../shared/envelope';
import { ConflictError } from '../shared/errors';

export interface RecordServices {
  readonly db: DynamoDBDocumentClient;
  readonly tableName: string;
  /** How long outbox records live before TTL removes them. */
  readonly outboxRetentionSeconds: number;
  readonly now: () => Date;
}

/** What the webhook answers for a provider event; stored with it, so a redelivery gets the same answer. */
export type RecordOutcome =
  | { readonly outcome: 'applied'; readonly status: PaymentStatus; readonly outboxEventId?: string }
  | { readonly outcome: 'ignored'; readonly reason: string };

export interface RecordResult {
  readonly response: RecordOutcome;
  /** The provider event was recorded before: nothing was written this time. */
  readonly duplicate: boolean;
}

// Optimistic concurrency: a lost race re-reads and decides again; after this many the
// provider is asked to retry (409) rather than blocking the webhook.
const MAX_ATTEMPTS = 5;

/** The event payload consumers get: the payment as it now stands. */
function paymentPayload(next: PaymentState, providerEventId: string) {
  return {
    paymentId: next.paymentId,
    status: next.status,
    amount: next.amount,
    currency: next.currency,
    refundedAmount: next.refundedAmount,
    providerEventId,
    ...(next.metadata ? { metadata: next.metadata } : {}),
  };
}

/**
 * Records one verified provider event: the payment state, the provider-event ledger entry
 * (holding the answer given) and, for announced transitions, the outbox record are written
 * in ONE transaction, conditional on the state read, so concurrent or redelivered webhooks
 * change nothing twice and get the first answer again.
 */
export async function recordProviderEvent(services: RecordServices, event: ProviderEvent): Promise<RecordResult> {
  const { db, tableName } = services;
  const pk = paymentPk(event.paymentId);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const [state, ledger] = await Promise.all([
      db.send(new GetCommand({ TableName: tableName, Key: { PK: pk, SK: STATE_SK }, ConsistentRead: true })),
      db.send(new GetCommand({ TableName: tableName, Key: { PK: pk, SK: ledgerSk(event.eventId) }, ConsistentRead: true })),
    ]);
    if (ledger.Item) return { response: ledger.Item.response as RecordOutcome, duplicate: true };
    const current = toState(state.Item);
    const decision = decide(current, event);
    const recordedAt = services.now().toISOString();
    const ledgerEntry = { PK: pk, SK: ledgerSk(event.eventId), recordType: 'PROVIDER_EVENT', kind: event.kind, occurredAt: event.occurredAt, recordedAt };

    if (decision.decision === 'ignore') {
      // Recorded, so an operator sees what the provider sent and why nothing changed.
      const response: RecordOutcome = { outcome: 'ignored', reason: decision.reason };
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
        payload: paymentPayload(next, event.eventId),
      })
      : undefined;
    const response: RecordOutcome = { outcome: 'applied', status: next.status, ...(outboxEvent ? { outboxEventId: outboxEvent.eventId } : {}) };
    const stateCondition = current
      ? { ConditionExpression: 'lastProviderEventId = :seen', ExpressionAttributeValues: { ':seen': current.lastProviderEventId } }
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
