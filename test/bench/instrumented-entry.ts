// Bench-only entry: the four product handlers and the client modules they share, in one
// bundle, so the bench can put a call-counting middleware on the very clients they use.
export { handler as read } from '../../functions/product-api/read-products';
export { handler as accept } from '../../functions/product-api/accept-change';
export { handler as apply } from '../../functions/product-api/apply-change';
export { handler as audit } from '../../functions/product-api/audit-change';
export { dynamoDbClient, documentClient } from '../../functions/shared/clients/dynamodb';
export { snsClient } from '../../functions/shared/clients/sns';
export { s3Client } from '../../functions/shared/clients/s3';
export { secretsManagerClient } from '../../functions/shared/clients/secrets-manager';
