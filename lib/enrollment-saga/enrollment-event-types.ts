// The saga's event types and source live in the contract (one copy for construct, handlers and tests).
export { EnrollmentEvents, ENROLLMENT_EVENT_SOURCE, type EnrollmentEventType } from './contract';
