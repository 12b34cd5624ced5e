// Bench-only entry: the saga's step handlers, its top-up and the client modules they use,
// in one bundle, so the bench can count the calls the very same clients make.
export { handler as createPurchase } from '../../functions/enrollment-saga/create-purchase';
export { handler as allocateTrainer } from '../../functions/enrollment-saga/allocate-trainer';
export { handler as scheduleSessions } from '../../functions/enrollment-saga/schedule-sessions';
export { handler as completeEnrollment } from '../../functions/enrollment-saga/complete-enrollment';
export { handler as compensate } from '../../functions/enrollment-saga/compensate';
export { handler as topUp } from '../../functions/enrollment-saga/top-up-sessions';
export { dynamoDbClient, documentClient } from '../../functions/shared/clients/dynamodb';
