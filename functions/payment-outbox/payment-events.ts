/** Event types PaymentOutbox publishes; consumers subscribe to these on the event bus. */
export const PaymentEvents = {
  SUCCEEDED: 'PaymentSucceeded',
  FAILED: 'PaymentFailed',
  REFUNDED: 'PaymentRefunded',
} as const;

export type PaymentEventType = (typeof PaymentEvents)[keyof typeof PaymentEvents];
