/**
 * For each handler (by `<context>/<file>` under functions/), a bare handler that creates
 * the same SDK clients and nothing else: the baseline that shows what the handler kit
 * (Middy, Powertools, zod) costs.
 */
const DDB = "import { DynamoDBClient } from '@aws-sdk/client-dynamodb'; import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'; const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({}));";
const SNS = "import { SNSClient } from '@aws-sdk/client-sns'; const sns = new SNSClient({});";
const S3 = "import { S3Client } from '@aws-sdk/client-s3'; const s3 = new S3Client({});";
const EVENTS = "import { EventBridgeClient } from '@aws-sdk/client-eventbridge'; const events = new EventBridgeClient({});";
const SFN = "import { SFNClient } from '@aws-sdk/client-sfn'; const sfn = new SFNClient({});";
const SQS = "import { SQSClient } from '@aws-sdk/client-sqs'; const sqs = new SQSClient({});";
const CODEBUILD = "import { CodeBuildClient } from '@aws-sdk/client-codebuild'; const codebuild = new CodeBuildClient({});";
const LAMBDA = "import { LambdaClient } from '@aws-sdk/client-lambda'; const lambda = new LambdaClient({});";
const SCHEDULER = "import { SchedulerClient } from '@aws-sdk/client-scheduler'; const scheduler = new SchedulerClient({});";
const SECRETS = "import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'; const secrets = new SecretsManagerClient({});";

export const BARE_HANDLERS: Record<string, string> = {
  'product-api/read-products': `${DDB} ${SECRETS} export const handler = async () => [ddb, secrets];`,
  'product-api/accept-change': `${DDB} ${SNS} export const handler = async () => [ddb, sns];`,
  'product-api/apply-change': `${DDB} export const handler = async () => ddb;`,
  'product-api/audit-change': `${S3} export const handler = async () => s3;`,
  'payment-outbox/webhook': `${DDB} ${SECRETS} export const handler = async () => [ddb, secrets];`,
  'payment-outbox/publish-outbox': `${EVENTS} export const handler = async () => events;`,
  'payment-outbox/replay-outbox': `${DDB} ${EVENTS} export const handler = async () => [ddb, events];`,
  'enrollment-saga/start-saga': `${SFN} ${SQS} export const handler = async () => [sfn, sqs];`,
  'enrollment-saga/create-purchase': `${DDB} export const handler = async () => ddb;`,
  'enrollment-saga/allocate-trainer': `${DDB} export const handler = async () => ddb;`,
  'enrollment-saga/schedule-sessions': `${DDB} export const handler = async () => ddb;`,
  'enrollment-saga/complete-enrollment': `${DDB} export const handler = async () => ddb;`,
  'enrollment-saga/compensate': `${DDB} export const handler = async () => ddb;`,
  'enrollment-saga/top-up-sessions': `${DDB} export const handler = async () => ddb;`,
  'enrollment-saga/cancel-on-refund': `${DDB} ${EVENTS} ${SQS} export const handler = async () => [ddb, events, sqs];`,
  'enrollment-saga/compensate-stopped': `${DDB} ${EVENTS} export const handler = async () => [ddb, events];`,
  // The presigned POST is signed with the S3 client's credentials: create-build holds one (no S3 call).
  'build-pipeline/create-build': `${DDB} ${S3} export const handler = async () => [ddb, s3];`,
  'build-pipeline/read-builds': `${DDB} ${SECRETS} export const handler = async () => [ddb, secrets];`,
  'build-pipeline/build-worker': `${DDB} ${S3} ${CODEBUILD} export const handler = async () => [ddb, s3, codebuild];`,
  'build-pipeline/expire-uploads': `${DDB} export const handler = async () => ddb;`,
  'build-pipeline/publish-build-events': `${EVENTS} export const handler = async () => events;`,
  'build-pipeline/deliver-webhooks': `${DDB} ${SECRETS} ${SQS} export const handler = async () => [ddb, secrets, sqs];`,
  'build-pipeline/rotate-webhook-secret': `${SECRETS} export const handler = async () => secrets;`,
  'build-pipeline/container-build-finished': `${DDB} export const handler = async () => ddb;`,
  'lambda-runtime-service/registry-api': `${DDB} ${SECRETS} export const handler = async () => [ddb, secrets];`,
  'lambda-runtime-service/rollback-function': `${DDB} ${LAMBDA} export const handler = async () => [ddb, lambda];`,
  'lambda-runtime-service/invoke-function': `${DDB} ${LAMBDA} export const handler = async () => [ddb, lambda];`,
  'lambda-runtime-service/read-invocations': `${DDB} ${SECRETS} export const handler = async () => [ddb, secrets];`,
  'lambda-runtime-service/deploy-builds': `${DDB} ${LAMBDA} ${SQS} export const handler = async () => [ddb, lambda, sqs];`,
  'lambda-runtime-service/check-canaries': `${DDB} ${LAMBDA} ${SQS} export const handler = async () => [ddb, lambda, sqs];`,
  'lambda-runtime-service/sync-registry': `${DDB} ${LAMBDA} ${SCHEDULER} export const handler = async () => [ddb, lambda, scheduler];`,
  'lambda-runtime-service/complete-invocations': `${DDB} ${SECRETS} ${SQS} export const handler = async () => [ddb, secrets, sqs];`,
  // Verifies JWTs with jose and the runtime's fetch: no SDK client at all.
  'lambda-runtime-service/jwt-authorizer': 'export const handler = async () => undefined;',
};
