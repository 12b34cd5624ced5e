export * from './product-api';
export * from './product-api-props';
export { ProductEvents, PRODUCT_EVENT_SOURCE, type ProductEventType } from './contract';
