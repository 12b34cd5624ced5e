import { randomBytes, randomUUID } from 'node:crypto';
import type { APIGatewayProxyResult, SQSBatchResponse, SQSEvent, APIGatewayProxyEvent } from 'aws-lambda';
import { signPageToken } from '../../functions/product-api/page-token';
import { BundledHandler, bundleHandler, loadHandler } from '../harness/bundle-handler';
import {
  FifoQueue, LocalClients, apiEvent, ApiRequest, configureHandlerEnv, createBucket, createFanOut,
  createIdempotencyTable, createProductsTable, deleteMessages, fakeContext, localClients, receiveAtLeast,
  toSqsEvent, uniqueName, sqsRecord,
} from '../harness/local-aws';
import { LocalSecretsManager, startLocalSecretsManager } from '../harness/local-secrets-manager';

type HttpFn = (event: APIGatewayProxyEvent, context: any) => Promise<APIGatewayProxyResult>;
type SqsFn = (event: SQSEvent, context: any) => Promise<SQSBatchResponse>;

export const HANDLERS = ['read-products', 'accept-change', 'apply-change', 'audit-change'] as const;
export type HandlerName = (typeof HANDLERS)[number];

/** Bundles once per test file; handlers then see this file's tables, topic and bucket. */
export interface ProductApiFixture {
  clients: LocalClients;
  tableName: string;
  idempotencyTableName: string;
  bucketName: string;
  topicArn: string;
  writer: FifoQueue;
  audit: FifoQueue;
  bundles: Record<HandlerName, BundledHandler>;
  /** Serves the page token secret (GetSecretValue) to the read handler. */
  secrets: LocalSecretsManager;
  /** The page token secret's value: the HMAC key of `nextToken`. */
  pageTokenSecret: string;
  read: (req: ApiRequest) => Promise<APIGatewayProxyResult>;
  accept: (req: ApiRequest) => Promise<APIGatewayProxyResult>;
  apply: (event: SQSEvent) => Promise<SQSBatchResponse>;
  auditFn: (event: SQSEvent) => Promise<SQSBatchResponse>;
  stop: () => Promise<void>;
}

export interface FixtureOptions {
  /** The page token secret's value; random by default. */
  readonly pageTokenSecret?: string;
}

export async function setupProductApi(prefix: string, options: FixtureOptions = {}): Promise<ProductApiFixture> {
  const clients = localClients();
  const name = uniqueName(prefix);
  const tableName = `${name}-products`;
  const idempotencyTableName = `${name}-idempotency`;
  const bucketName = `${name}-audit`.toLowerCase();
  await createProductsTable(clients.ddb, tableName);
  await createIdempotencyTable(clients.ddb, idempotencyTableName);
  await createBucket(clients.s3, bucketName);
  const { topicArn, queues: [writer, audit] } = await createFanOut(clients, name, ['writer', 'audit']);
  const secrets = await startLocalSecretsManager();
  const pageTokenSecret = options.pageTokenSecret ?? randomBytes(32).toString('hex');
  configureHandlerEnv({
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
    PAGE_TOKEN_SECRET_ARN: secrets.put(`${name}-page-token`, pageTokenSecret),
    PRODUCTS_TABLE_NAME: tableName,
    IDEMPOTENCY_TABLE_NAME: idempotencyTableName,
    CHANGES_TOPIC_ARN: topicArn,
    AUDIT_BUCKET_NAME: bucketName,
  });
  const built = await Promise.all(HANDLERS.map((h) => bundleHandler(`functions/product-api/${h}.ts`)));
  const bundles = Object.fromEntries(HANDLERS.map((h, i) => [h, built[i]])) as Record<HandlerName, BundledHandler>;
  const readFn = loadHandler<HttpFn>(bundles['read-products']);
  const acceptFn = loadHandler<HttpFn>(bundles['accept-change']);
  const applyFn = loadHandler<SqsFn>(bundles['apply-change']);
  const auditFn = loadHandler<SqsFn>(bundles['audit-change']);
  return {
    clients,
    tableName,
    idempotencyTableName,
    bucketName,
    topicArn,
    writer,
    audit,
    bundles,
    secrets,
    pageTokenSecret,
    read: (req) => readFn(apiEvent(req), fakeContext('read-products')),
    accept: (req) => acceptFn(apiEvent(req), fakeContext('accept-change')),
    apply: (event) => applyFn(event, fakeContext('apply-change')),
    auditFn: (event) => auditFn(event, fakeContext('audit-change')),
    stop: () => secrets.stop(),
  };
}

/** Moves what the topic fanned out through both consumers, as the event source mappings would. */
export async function deliverAll(f: ProductApiFixture, expected: number): Promise<void> {
  for (const [queue, fn] of [[f.writer, f.apply], [f.audit, f.auditFn]] as const) {
    const messages = await receiveAtLeast(f.clients.sqs, queue.url, expected);
    expect(messages).toHaveLength(expected);
    const result = await fn(toSqsEvent(messages, queue.arn));
    expect(result.batchItemFailures).toEqual([]);
    await deleteMessages(f.clients.sqs, queue.url, messages);
  }
}

export interface ChangeOptions {
  eventType: 'ProductCreated' | 'ProductUpdated' | 'ProductDeleted';
  productId: string;
  acceptedAt: number;
  product?: { name: string; price: number; currency: string; description?: string };
  eventId?: string;
}

/** An envelope as accept-change would publish it, for tests that drive the writer directly. */
export function changeEnvelope(o: ChangeOptions) {
  return {
    eventId: o.eventId ?? randomUUID(),
    eventType: o.eventType,
    correlationId: randomUUID(),
    occurredAt: new Date(o.acceptedAt).toISOString(),
    source: 'cdk-event-services.product-api',
    version: 1,
    payload: { productId: o.productId, acceptedAt: o.acceptedAt, ...(o.product ? { product: o.product } : {}) },
  };
}

export const recordFor = (envelope: { payload: { productId: string } }, messageId?: string) =>
  sqsRecord(JSON.stringify(envelope), envelope.payload.productId, messageId);

/** Signs a page token with the fixture's secret, as the read handler would. */
export const signToken = (f: Pick<ProductApiFixture, 'pageTokenSecret'>, value: unknown) =>
  signPageToken(Buffer.from(f.pageTokenSecret, 'utf8'), value);

export const parse = (r: APIGatewayProxyResult) => (r.body ? JSON.parse(r.body) : undefined);
