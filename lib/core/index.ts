export * from './service-function';
export * from './reliable-queue';
export * from './alarms';
export * from './alarm-topic';
export * from './encryption';
export * from './nag';
export * from './prop-checks';
export * from './service-rest-api';
