// Bench-only entry: the deliver-webhooks handler factory and the client modules it uses, in one
// bundle, so the bench can count the calls the very same clients make.
export { createDeliverWebhooksHandler } from '../../functions/build-pipeline/deliver-webhooks';
export { dynamoDbClient, documentClient } from '../../functions/shared/clients/dynamodb';
export { secretsManagerClient } from '../../functions/shared/clients/secrets-manager';
export { sqsClient } from '../../functions/shared/clients/sqs';
