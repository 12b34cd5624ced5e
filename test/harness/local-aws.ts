import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  ChangeMessageVisibilityCommand, CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand,
  Message, ReceiveMessageCommand, SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { EMULATORS_FILE } from './emulator-processes';
import { createLocalTable } from './local-table';
import { IDEMPOTENCY_TABLE_SCHEMA } from '../../lib/core/tables';
import { CHANGE_FANOUT_DEFINITION, PRODUCTS_TABLE_SCHEMA } from '../../lib/product-api/contract';

export const REGION = 'us-east-1';

export function endpoints(): { dynamodb: string; fauxqs: string } {
  if (process.env.TEST_DYNAMODB_ENDPOINT && process.env.TEST_FAUXQS_ENDPOINT) {
    return { dynamodb: process.env.TEST_DYNAMODB_ENDPOINT, fauxqs: process.env.TEST_FAUXQS_ENDPOINT };
  }
  if (!existsSync(EMULATORS_FILE)) throw new Error('Local engines are not running (jest globalSetup starts them)');
  return JSON.parse(readFileSync(EMULATORS_FILE, 'utf8'));
}

/** Points the SDK inside a bundled handler at the local engines; call before requiring it. */
export function configureHandlerEnv(extra: Record<string, string> = {}): void {
  const { dynamodb, fauxqs } = endpoints();
  Object.assign(process.env, {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: dynamodb,
    AWS_ENDPOINT_URL_SNS: fauxqs,
    AWS_ENDPOINT_URL_SQS: fauxqs,
    AWS_ENDPOINT_URL_S3: fauxqs,
    S3_FORCE_PATH_STYLE: 'true',
    POWERTOOLS_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'SILENT',
    ...extra,
  });
}

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

export function localClients() {
  const { dynamodb, fauxqs } = endpoints();
  const ddb = new DynamoDBClient({ region: REGION, endpoint: dynamodb, credentials });
  return {
    ddb,
    doc: DynamoDBDocumentClient.from(ddb),
    // fauxqs queue URLs name sqs.<region>.localhost hosts; send to the endpoint instead.
    sqs: new SQSClient({ region: REGION, endpoint: fauxqs, credentials, useQueueUrlAsEndpoint: false }),
    sns: new SNSClient({ region: REGION, endpoint: fauxqs, credentials }),
    s3: new S3Client({ region: REGION, endpoint: fauxqs, credentials, forcePathStyle: true }),
  };
}
export type LocalClients = ReturnType<typeof localClients>;

/** A short unique suffix so parallel test files never share a table, queue or bucket. */
export const uniqueName = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

export async function createProductsTable(ddb: DynamoDBClient, tableName: string): Promise<void> {
  const s = PRODUCTS_TABLE_SCHEMA;
  await createLocalTable(ddb, tableName, { partitionKey: s.partitionKey, sortKey: s.sortKey, indexes: [s.priceIndex, s.nameIndex] });
}

export async function createIdempotencyTable(ddb: DynamoDBClient, tableName: string): Promise<void> {
  await createLocalTable(ddb, tableName, { partitionKey: IDEMPOTENCY_TABLE_SCHEMA.partitionKey });
}

export interface FifoQueue {
  readonly url: string;
  readonly arn: string;
  readonly dlqUrl: string;
}

async function queueArn(sqs: SQSClient, url: string): Promise<string> {
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  return Attributes!.QueueArn!;
}

/** A FIFO queue with its FIFO DLQ (redrive after maxReceiveCount receives). */
export async function createFifoQueue(sqs: SQSClient, name: string, maxReceiveCount = 3): Promise<FifoQueue> {
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq.fifo`, Attributes: { FifoQueue: 'true' } }));
  const dlqArn = await queueArn(sqs, dlq.QueueUrl!);
  const queue = await sqs.send(new CreateQueueCommand({
    QueueName: `${name}.fifo`,
    Attributes: {
      FifoQueue: 'true',
      VisibilityTimeout: '30',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount }),
    },
  }));
  return { url: queue.QueueUrl!, arn: await queueArn(sqs, queue.QueueUrl!), dlqUrl: dlq.QueueUrl! };
}

/** The construct's change fan-out (CHANGE_FANOUT_DEFINITION): FIFO topic to FIFO queues. */
export async function createFanOut(
  clients: LocalClients,
  prefix: string,
  queueNames: readonly string[] = ['writer', 'audit'],
): Promise<{ topicArn: string; queues: FifoQueue[] }> {
  const { TopicArn } = await clients.sns.send(new CreateTopicCommand({
    Name: `${prefix}-changes.fifo`,
    Attributes: {
      FifoTopic: String(CHANGE_FANOUT_DEFINITION.fifo),
      ContentBasedDeduplication: String(CHANGE_FANOUT_DEFINITION.contentBasedDeduplication),
    },
  }));
  const queues: FifoQueue[] = [];
  for (const name of queueNames) {
    const queue = await createFifoQueue(clients.sqs, `${prefix}-${name}`);
    await clients.sns.send(new SubscribeCommand({
      TopicArn, Protocol: 'sqs', Endpoint: queue.arn, Attributes: { RawMessageDelivery: String(CHANGE_FANOUT_DEFINITION.rawMessageDelivery) },
    }));
    queues.push(queue);
  }
  return { topicArn: TopicArn!, queues };
}

/** A standard queue (e.g. a consumer's DLQ the handler sends refused events to); returns its URL. */
export async function createQueue(sqs: SQSClient, name: string): Promise<string> {
  return (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
}

export async function createBucket(s3: S3Client, name: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: name }));
}

export async function receive(sqs: SQSClient, url: string, max = 10, waitSeconds = 0): Promise<Message[]> {
  const { Messages } = await sqs.send(new ReceiveMessageCommand({
    QueueUrl: url,
    MaxNumberOfMessages: max,
    WaitTimeSeconds: waitSeconds,
    MessageSystemAttributeNames: ['All'],
    MessageAttributeNames: ['All'],
  }));
  return Messages ?? [];
}

/** Receives until `count` messages arrived or the time is up (FIFO hands out one group batch at a time). */
export async function receiveAtLeast(sqs: SQSClient, url: string, count: number, timeoutMs = 5_000): Promise<Message[]> {
  const all: Message[] = [];
  const deadline = Date.now() + timeoutMs;
  while (all.length < count && Date.now() < deadline) {
    const batch = await receive(sqs, url, 10, 1);
    all.push(...batch);
  }
  return all;
}

export async function deleteMessages(sqs: SQSClient, url: string, messages: Message[]): Promise<void> {
  for (const m of messages) await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle! }));
}

export async function releaseMessages(sqs: SQSClient, url: string, messages: Message[]): Promise<void> {
  for (const m of messages) {
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 }));
  }
}

/** The SQS event Lambda's event source mapping would build from received messages. */
export function toSqsEvent(messages: Message[], arn: string): SQSEvent {
  return {
    Records: messages.map((m): SQSRecord => ({
      messageId: m.MessageId!,
      receiptHandle: m.ReceiptHandle!,
      body: m.Body ?? '',
      attributes: {
        ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1',
        SentTimestamp: m.Attributes?.SentTimestamp ?? String(Date.now()),
        SenderId: m.Attributes?.SenderId ?? 'local',
        ApproximateFirstReceiveTimestamp: m.Attributes?.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
        MessageGroupId: m.Attributes?.MessageGroupId,
        MessageDeduplicationId: m.Attributes?.MessageDeduplicationId,
        SequenceNumber: m.Attributes?.SequenceNumber,
      },
      messageAttributes: Object.fromEntries(Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [k, {
        stringValue: v.StringValue, dataType: v.DataType ?? 'String',
      }])) as SQSRecord['messageAttributes'],
      md5OfBody: m.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: arn,
      awsRegion: REGION,
    })),
  };
}

/** A record as the event source mapping would pass it, for hand-built batches. */
export function sqsRecord(body: string, group?: string, messageId: string = randomUUID()): SQSRecord {
  return toSqsEvent([{
    MessageId: messageId,
    ReceiptHandle: messageId,
    Body: body,
    Attributes: { MessageGroupId: group, ApproximateReceiveCount: '1' },
  }], `arn:aws:sqs:${REGION}:000000000000:test.fifo`).Records[0];
}

export function fakeContext(functionName = 'test-function'): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export interface ApiRequest {
  method: string;
  productId?: string;
  query?: Record<string, string>;
  body?: unknown;
  headers?: Record<string, string>;
}

/** An API Gateway REST proxy event for /v1.0/products[/{productId}]. Strings pass as-is. */
export function apiEvent(req: ApiRequest): APIGatewayProxyEvent {
  const hasId = req.productId !== undefined;
  return {
    httpMethod: req.method,
    resource: hasId ? '/v1.0/products/{productId}' : '/v1.0/products',
    path: hasId ? `/v1.0/products/${req.productId}` : '/v1.0/products',
    pathParameters: hasId ? { productId: req.productId! } : null,
    queryStringParameters: req.query ?? null,
    multiValueQueryStringParameters: null,
    headers: { 'content-type': 'application/json', ...req.headers },
    multiValueHeaders: {},
    body: req.body === undefined ? null : typeof req.body === 'string' ? req.body : JSON.stringify(req.body),
    isBase64Encoded: false,
    stageVariables: null,
    requestContext: {} as APIGatewayProxyEvent['requestContext'],
  };
}
