/** Event types PaymentOutbox publishes; consumers subscribe to these on the event bus. */
export const PaymentEvents = {
  SUCCEEDED: 'PaymentSucceeded',
  FAILED: 'PaymentFailed',
  REFUNDED: 'PaymentRefunded',
} as const;

export type PaymentEventType = (typeof PaymentEvents)[keyof typeof PaymentEvents];

/** The envelope `source` of every payment event, and the EventBridge `source` it is published under. */
export const PAYMENT_EVENT_SOURCE = 'cdk-event-services.payment-outbox';
