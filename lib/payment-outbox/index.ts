export * from './payment-outbox';
export * from './payment-outbox-props';
export * from './payment-event-types';
export * from './payments-table-schema';
