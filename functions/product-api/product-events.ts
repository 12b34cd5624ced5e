/** Event types the product service emits; consumers match on these, never on literals. */
export const ProductEvents = {
  CREATED: 'ProductCreated',
  UPDATED: 'ProductUpdated',
  DELETED: 'ProductDeleted',
} as const;

export type ProductEventType = (typeof ProductEvents)[keyof typeof ProductEvents];

export const PRODUCT_EVENT_SOURCE = 'cdk-event-services.product-api';
