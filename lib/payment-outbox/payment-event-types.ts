import type * as events from 'aws-cdk-lib/aws-events';
import { PAYMENT_EVENT_SOURCE, PaymentEvents, type PaymentEventType } from './contract';

/** A rule pattern for payment events of the given types (all three when none are given). */
export function paymentEventPattern(...types: PaymentEventType[]): events.EventPattern {
  return { source: [PAYMENT_EVENT_SOURCE], detailType: types.length > 0 ? types : Object.values(PaymentEvents) };
}
