export * from './environment-config';
export * from './environment-stack';
