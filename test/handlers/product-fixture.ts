import { randomBytes, randomUUID } from 'node:crypto';
import type { APIGatewayProxyResult, SQSBatchResponse, SQSEvent, APIGatewayProxyEvent } from 'aws-lambda';
import { PRODUCT_PAGE_TOKEN_LABEL } from '../../functions/product-api/list-query';
import { signPageToken } from '../../functions/shared/page-token';
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
  /** The accept handler, called as API Gateway would after `authorization` let the caller in. */
  accept: (req: AcceptRequest) => Promise<APIGatewayProxyResult>;
  /** A fresh accept handler (new container) configured for another identity source. */
  acceptFor: (source: string) => (req: AcceptRequest) => Promise<APIGatewayProxyResult>;
  apply: (event: SQSEvent) => Promise<SQSBatchResponse>;
  auditFn: (event: SQSEvent) => Promise<SQSBatchResponse>;
  stop: () => Promise<void>;
}

/** The API key id API Gateway puts in the request context of a keyed request (default caller). */
export const TEST_API_KEY_ID = 'a1b2c3d4e5';

export interface AcceptRequest extends ApiRequest {
  /** What API Gateway sets after authorization (identity, authorizer); default: an API key caller. */
  requestContext?: Record<string, unknown>;
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
    CALLER_IDENTITY: 'apiKey',
  });
  const built = await Promise.all(HANDLERS.map((h) => bundleHandler(`functions/product-api/${h}.ts`)));
  const bundles = Object.fromEntries(HANDLERS.map((h, i) => [h, built[i]])) as Record<HandlerName, BundledHandler>;
  const readFn = loadHandler<HttpFn>(bundles['read-products']);
  const acceptFn = loadHandler<HttpFn>(bundles['accept-change']);
  const callAccept = (fn: HttpFn) => (req: AcceptRequest) => fn(
    { ...apiEvent(req), requestContext: (req.requestContext ?? { identity: { apiKeyId: TEST_API_KEY_ID } }) as any },
    fakeContext('accept-change'),
  );
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
    accept: callAccept(acceptFn),
    acceptFor: (source) => callAccept(loadFresh<HttpFn>(bundles['accept-change'], { CALLER_IDENTITY: source })),
    apply: (event) => applyFn(event, fakeContext('apply-change')),
    auditFn: (event) => auditFn(event, fakeContext('audit-change')),
    stop: () => secrets.stop(),
  };
}

/** Loads a bundle as a new container would, with some variables changed for its init only. */
function loadFresh<T>(bundle: BundledHandler, env: Record<string, string>): T {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    let handler: T | undefined;
    // jest's own module registry: a new one is a new container (init runs again).
    jest.isolateModules(() => { handler = loadHandler<T>(bundle); });
    return handler!;
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]; else process.env[k] = v;
    }
  }
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
  signPageToken(Buffer.from(f.pageTokenSecret, 'utf8'), PRODUCT_PAGE_TOKEN_LABEL, value);

/** The change envelopes carried by queue messages (raw delivery: the body is the envelope). */
export const toChanges = (messages: Array<{ Body?: string }>) => messages.map((m) => JSON.parse(m.Body!));

export const parse = (r: APIGatewayProxyResult) => (r.body ? JSON.parse(r.body) : undefined);
