export * from './enrollment-saga';
export * from './enrollment-saga-props';
export * from './enrollment-event-types';
export * from './enrollment-table-schema';
