export * from './core';
export * from './product-api';
export * from './payment-outbox';
export * from './enrollment-saga';
