export * from './product-api';
export * from './product-api-props';
export * from './products-table-schema';
