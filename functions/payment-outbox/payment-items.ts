import type { PaymentState } from './payment-state';
import type { EventEnvelope } from '../shared/envelope';

// Item layout of the payments table (see lib/payment-outbox/payments-table-schema.ts).
export const paymentPk = (paymentId: string) => `PAYMENT#${paymentId}`;
export const STATE_SK = 'STATE';
export const ledgerSk = (providerEventId: string) => `PROVIDER_EVENT#${providerEventId}`;
export const outboxSk = (occurredAt: string, eventId: string) => `OUTBOX#${occurredAt}#${eventId}`;
export const OUTBOX_RECORD = 'OUTBOX';
/** The GSI over OUTBOX_DAY / OUTBOX_AT (PAYMENTS_TABLE_SCHEMA.outboxByTimeIndex in lib). */
export const OUTBOX_BY_TIME_INDEX = 'OutboxByTimeIndex';

export function stateItem(state: PaymentState, updatedAt: string): Record<string, unknown> {
  return { PK: paymentPk(state.paymentId), SK: STATE_SK, recordType: 'PAYMENT', ...state, updatedAt };
}

export function toState(item: Record<string, any> | undefined): PaymentState | undefined {
  if (!item) return undefined;
  const { paymentId, status, amount, currency, refundedAmount, lastProviderEventAt, lastProviderEventId, metadata } = item;
  return { paymentId, status, amount, currency, refundedAmount, lastProviderEventAt, lastProviderEventId, ...(metadata ? { metadata } : {}) };
}

/** An outbox record: the envelope to publish, findable by day for replay, expiring by TTL. */
export function outboxItem(event: EventEnvelope<unknown>, paymentId: string, retentionSeconds: number): Record<string, unknown> {
  return {
    PK: paymentPk(paymentId),
    SK: outboxSk(event.occurredAt, event.eventId),
    recordType: OUTBOX_RECORD,
    eventId: event.eventId,
    envelope: event,
    OUTBOX_DAY: event.occurredAt.slice(0, 10),
    OUTBOX_AT: `${event.occurredAt}#${event.eventId}`,
    expiresAt: Math.floor(Date.parse(event.occurredAt) / 1000) + retentionSeconds,
  };
}
