export * from './core';
export * from './product-api';
