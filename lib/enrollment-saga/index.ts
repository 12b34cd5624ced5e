export * from './enrollment-saga';
export * from './enrollment-saga-props';
// What a user of the construct matches on: its event types and source, and the reasons its events carry.
export { EnrollmentEvents, ENROLLMENT_EVENT_SOURCE, FailureReasons, type EnrollmentEventType, type FailureReason } from './contract';
