/**
 * For each product handler, a bare handler that creates the same SDK clients and nothing
 * else: the baseline that shows what the handler kit (Middy, Powertools, zod) costs.
 */
const DDB = "import { DynamoDBClient } from '@aws-sdk/client-dynamodb'; import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'; const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({}));";
const SNS = "import { SNSClient } from '@aws-sdk/client-sns'; const sns = new SNSClient({});";
const S3 = "import { S3Client } from '@aws-sdk/client-s3'; const s3 = new S3Client({});";

export const BARE_HANDLERS: Record<string, string> = {
  'read-products': `${DDB} export const handler = async () => ddb;`,
  'accept-change': `${DDB} ${SNS} export const handler = async () => [ddb, sns];`,
  'apply-change': `${DDB} export const handler = async () => ddb;`,
  'audit-change': `${S3} export const handler = async () => s3;`,
};
