import type { PaymentState } from './payment-state';
import { OUTBOX_RECORD_TYPE } from '../../lib/payment-outbox/contract';
import type { EventEnvelope } from '../shared/envelope';

// Item layout of the payments table (PAYMENTS_TABLE_SCHEMA in lib/payment-outbox/contract.ts).
export const paymentPk = (paymentId: string) => `PAYMENT#${paymentId}`;
export const STATE_SK = 'STATE';
export const ledgerSk = (providerEventId: string) => `PROVIDER_EVENT#${providerEventId}`;
export const outboxSk = (occurredAt: string, eventId: string) => `OUTBOX#${occurredAt}#${eventId}`;

/**
 * An outbox record's position in time (its OUTBOX_AT index key): `<occurredAt>#<eventId>`,
 * the time as `toISOString()` writes it, the id a lower-case UUID. Every position has one
 * length, so positions sort as their times do; replay hands one back as `resumeAfter`.
 */
export const outboxPosition = (occurredAt: string, eventId: string) => `${occurredAt}#${eventId}`;
export const OUTBOX_POSITION = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)#[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

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
    recordType: OUTBOX_RECORD_TYPE,
    eventId: event.eventId,
    envelope: event,
    OUTBOX_DAY: event.occurredAt.slice(0, 10),
    OUTBOX_AT: outboxPosition(event.occurredAt, event.eventId),
    expiresAt: Math.floor(Date.parse(event.occurredAt) / 1000) + retentionSeconds,
  };
}
