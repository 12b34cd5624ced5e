import { PaymentEvents, PaymentEventType, PaymentStatus } from '../../lib/payment-outbox/contract';

export type { PaymentStatus };

/** A payment as recorded. Amounts are integers in minor units (cents): sums stay exact. */
export interface PaymentState {
  readonly paymentId: string;
  readonly status: PaymentStatus;
  readonly amount: number;
  readonly currency: string;
  /** The sum of every refund applied, each once; never above `amount`. */
  readonly refundedAmount: number;
  /**
   * Provider time of the last state transition applied (pending, succeeded, failed): an
   * older transition is out of order. Refunds do not move it: they add up in any order.
   */
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
  /** Write `next` (and announce `eventType`, when there is one). */
  | { readonly decision: 'apply'; readonly next: PaymentState; readonly eventType: PaymentEventType | undefined }
  /** Nothing changes, rightly: a redelivery, an older transition, one the machine does not allow. */
  | { readonly decision: 'ignore'; readonly reason: 'duplicate' | 'out-of-order' | 'transition-not-allowed' }
  /** A refund that can never apply; recorded and answered with the reason, so someone can act on it. */
  | { readonly decision: 'refuse'; readonly reason: 'refund-exceeds-amount' | 'payment-not-refundable'; readonly message: string }
  /** A refund that may apply later (the payment has not succeeded yet): nothing is written, the provider retries. */
  | { readonly decision: 'retry'; readonly reason: 'payment-not-succeeded-yet'; readonly message: string };

type TransitionEvent = Extract<ProviderEvent, { kind: 'pending' | 'succeeded' | 'failed' }>;
type RefundEvent = Extract<ProviderEvent, { kind: 'refunded' }>;

// Which statuses each transition may move a payment from (undefined: no record yet).
const ALLOWED_FROM: Record<TransitionEvent['kind'], ReadonlyArray<PaymentStatus | undefined>> = {
  pending: [undefined],
  // A provider may report the outcome before (or instead of) pending.
  succeeded: [undefined, 'pending'],
  failed: [undefined, 'pending'],
};

const EVENT_TYPE: Record<TransitionEvent['kind'], PaymentEventType | undefined> = {
  pending: undefined, // recorded, not announced: nothing happened the company acts on yet
  succeeded: PaymentEvents.SUCCEEDED,
  failed: PaymentEvents.FAILED,
};

/**
 * The payment state machine. Transitions (pending → succeeded | failed) obey the
 * provider's order: a redelivered, older or disallowed transition is ignored (answered 200,
 * so the provider stops retrying; nothing changes). Refunds are not transitions but facts
 * that add up: each applies once (the caller dedupes on the provider event id), in any
 * order, as long as the refunded total stays within the amount.
 */
export function decide(current: PaymentState | undefined, event: ProviderEvent): Decision {
  return event.kind === 'refunded' ? decideRefund(current, event) : decideTransition(current, event);
}

function decideTransition(current: PaymentState | undefined, event: TransitionEvent): Decision {
  if (current?.lastProviderEventId === event.eventId) return { decision: 'ignore', reason: 'duplicate' };
  if (current && event.occurredAt < current.lastProviderEventAt) return { decision: 'ignore', reason: 'out-of-order' };
  if (!ALLOWED_FROM[event.kind].includes(current?.status)) return { decision: 'ignore', reason: 'transition-not-allowed' };
  const metadata = event.metadata ?? current?.metadata; // the outcome may omit what pending carried
  const next: PaymentState = {
    paymentId: event.paymentId,
    amount: event.amount,
    currency: event.currency,
    refundedAmount: 0,
    lastProviderEventAt: event.occurredAt,
    lastProviderEventId: event.eventId,
    status: event.kind,
    ...(metadata ? { metadata } : {}),
  };
  return { decision: 'apply', eventType: EVENT_TYPE[event.kind], next };
}

function decideRefund(current: PaymentState | undefined, event: RefundEvent): Decision {
  if (!current || current.status === 'pending') {
    return {
      decision: 'retry',
      reason: 'payment-not-succeeded-yet',
      message: `Refund ${event.eventId} arrived before the success of payment ${event.paymentId} was recorded; retry later`,
    };
  }
  if (current.status === 'failed') {
    return { decision: 'refuse', reason: 'payment-not-refundable', message: `Payment ${event.paymentId} failed: there is nothing to refund` };
  }
  const refunded = current.refundedAmount + event.refundAmount;
  if (refunded > current.amount) {
    return {
      decision: 'refuse',
      reason: 'refund-exceeds-amount',
      message: `A refund of ${event.refundAmount} would bring the refunded total of payment ${event.paymentId} from ${current.refundedAmount} ` +
        `to ${refunded}, above the payment amount of ${current.amount} ${current.currency}`,
    };
  }
  const status: PaymentStatus = refunded === current.amount ? 'refunded' : 'partially_refunded';
  return { decision: 'apply', eventType: PaymentEvents.REFUNDED, next: { ...current, status, refundedAmount: refunded } };
}
