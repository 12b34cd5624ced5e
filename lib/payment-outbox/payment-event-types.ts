import type * as events from 'aws-cdk-lib/aws-events';

/**
 * Event types PaymentOutbox publishes (EventBridge `detail-type`). Mirrors
 * functions/payment-outbox/payment-events.ts, which the handlers use; a test keeps the two equal.
 */
export const PaymentEvents = {
  SUCCEEDED: 'PaymentSucceeded',
  FAILED: 'PaymentFailed',
  REFUNDED: 'PaymentRefunded',
} as const;

export type PaymentEventType = (typeof PaymentEvents)[keyof typeof PaymentEvents];

/** EventBridge `source` of every payment event. */
export const PAYMENT_EVENT_SOURCE = 'cdk-event-services.payment-outbox';

/** A rule pattern for payment events of the given types (all three when none are given). */
export function paymentEventPattern(...types: PaymentEventType[]): events.EventPattern {
  return { source: [PAYMENT_EVENT_SOURCE], detailType: types.length > 0 ? types : Object.values(PaymentEvents) };
}
