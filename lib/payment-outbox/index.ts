export * from './payment-outbox';
export * from './payment-outbox-props';
export * from './payment-event-types';
export { PaymentEvents, PAYMENT_EVENT_SOURCE, type PaymentEventType } from './contract';
