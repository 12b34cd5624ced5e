export * from './product-api';
export * from './product-api-props';
export { ProductApiAuthorization, type AuthorizerOptions, type BoundAuthorization } from './authorization';
export {
  ProductEvents, PRODUCT_EVENT_SOURCE, type ProductEventType, CallerIdentitySource, type CallerIdentitySourceType,
} from './contract';
