export * from './payment-outbox';
export * from './payment-outbox-props';
// What a user of the construct matches on: its event types and source, and the payment statuses its events carry.
export { PaymentEvents, PAYMENT_EVENT_SOURCE, PaymentStatuses, type PaymentEventType, type PaymentStatus } from './contract';
