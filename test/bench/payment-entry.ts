// Bench-only entry: the webhook handler and the client modules it uses, in one bundle, so
// the bench can count the calls the very same clients make.
export { handler as webhook } from '../../functions/payment-outbox/webhook';
export { dynamoDbClient, documentClient } from '../../functions/shared/clients/dynamodb';
export { secretsManagerClient } from '../../functions/shared/clients/secrets-manager';
