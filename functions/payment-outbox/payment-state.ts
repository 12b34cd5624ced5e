import { PaymentEvents, PaymentEventType } from './payment-events';

export type PaymentStatus = 'pending' | 'succeeded' | 'failed' | 'refunded';

/** A payment as recorded. Amounts are integers in minor units (cents): sums stay exact. */
export interface PaymentState {
  readonly paymentId: string;
  readonly status: PaymentStatus;
  readonly amount: number;
  readonly currency: string;
  readonly refundedAmount: number;
  /** Provider time of the last event applied: an older event is out of order. */
  readonly lastProviderEventAt: string;
  readonly lastProviderEventId: string;
  /** The merchant's own keys (e.g. studentId, courseId), as given to the provider; carried on every event. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** One provider event, already verified and validated. */
export type ProviderEvent =
  | {
    readonly kind: 'pending' | 'succeeded' | 'failed';
    readonly eventId: string;
    readonly occurredAt: string;
    readonly paymentId: string;
    readonly amount: number;
    readonly currency: string;
    readonly metadata?: Readonly<Record<string, string>>;
  }
  | { readonly kind: 'refunded'; readonly eventId: string; readonly occurredAt: string; readonly paymentId: string; readonly refundAmount: number };

export type Decision =
  | { readonly decision: 'apply'; readonly next: PaymentState; readonly eventType: PaymentEventType | undefined }
  | { readonly decision: 'ignore'; readonly reason: 'duplicate' | 'out-of-order' | 'transition-not-allowed' | 'refund-exceeds-amount' | 'unknown-payment' };

// Which statuses each provider event may move a payment from (undefined: no record yet).
const ALLOWED_FROM: Record<ProviderEvent['kind'], ReadonlyArray<PaymentStatus | undefined>> = {
  pending: [undefined],
  // A provider may report the outcome before (or instead of) pending.
  succeeded: [undefined, 'pending'],
  failed: [undefined, 'pending'],
  // Partial refunds add up: a refunded payment may be refunded again, up to its amount.
  refunded: ['succeeded', 'refunded'],
};

const EVENT_TYPE: Record<ProviderEvent['kind'], PaymentEventType | undefined> = {
  pending: undefined, // recorded, not announced: nothing happened the company acts on yet
  succeeded: PaymentEvents.SUCCEEDED,
  failed: PaymentEvents.FAILED,
  refunded: PaymentEvents.REFUNDED,
};

/**
 * The payment state machine: pending → succeeded | failed, succeeded → refunded (partial
 * refunds add up, never above the amount). A redelivered, older or disallowed event is
 * ignored: the webhook still answers 200 so the provider stops retrying, and nothing changes.
 */
export function decide(current: PaymentState | undefined, event: ProviderEvent): Decision {
  if (current?.lastProviderEventId === event.eventId) return { decision: 'ignore', reason: 'duplicate' };
  if (current && event.occurredAt < current.lastProviderEventAt) return { decision: 'ignore', reason: 'out-of-order' };
  if (!ALLOWED_FROM[event.kind].includes(current?.status)) {
    return { decision: 'ignore', reason: current ? 'transition-not-allowed' : 'unknown-payment' };
  }
  const stamp = { lastProviderEventAt: event.occurredAt, lastProviderEventId: event.eventId };
  if (event.kind === 'refunded') {
    const refunded = current!.refundedAmount + event.refundAmount;
    if (refunded > current!.amount) return { decision: 'ignore', reason: 'refund-exceeds-amount' };
    return { decision: 'apply', eventType: EVENT_TYPE.refunded, next: { ...current!, ...stamp, status: 'refunded', refundedAmount: refunded } };
  }
  const metadata = event.metadata ?? current?.metadata; // the outcome may omit what pending carried
  const next: PaymentState = {
    paymentId: event.paymentId,
    amount: event.amount,
    currency: event.currency,
    refundedAmount: 0,
    ...stamp,
    status: event.kind,
    ...(metadata ? { metadata } : {}),
  };
  return { decision: 'apply', eventType: EVENT_TYPE[event.kind], next };
}
