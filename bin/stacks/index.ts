export * from './environment-config';
export * from './environment-stack';
export * from './function-platform-stack';
export * from './environment';
