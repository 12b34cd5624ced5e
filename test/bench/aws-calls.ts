import * as path from 'node:path';
import { bundleEntry } from '../harness/bundle-handler';
import { startDynamoDbLocal, startFauxqs } from '../harness/emulator-processes';
import {
  apiEvent, configureHandlerEnv, createBucket, createFanOut, createIdempotencyTable, createProductsTable,
  deleteMessages, fakeContext, localClients, receive, toSqsEvent,
} from '../harness/local-aws';
import { startLocalSecretsManager } from '../harness/local-secrets-manager';

/**
 * AWS calls per product operation, counted by an SDK middleware on the handlers' own
 * clients (one bundle holds the handlers and the client modules they share, built with
 * the construct's bundling), against DynamoDB Local and fauxqs. A write is counted end to end:
 * the accept call, the writer applying it and the audit logger recording it.
 */
export type Counts = Record<string, number>;

/** Counts each command a client sends, by `<service>.<operation>`. */
export function countCalls(client: { middlewareStack: any }, service: string, counts: Counts): void {
  client.middlewareStack.add(
    (next: any, context: any) => async (args: any) => {
      const key = `${service}.${String(context.commandName).replace(/Command$/, '')}`;
      counts[key] = (counts[key] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: `benchCallCounter${service}` },
  );
}

export async function measureAwsCalls(): Promise<Array<{ operation: string; calls: Counts }>> {
  const [dynamodb, fauxqs, secrets] = await Promise.all([startDynamoDbLocal(), startFauxqs(), startLocalSecretsManager()]);
  try {
    process.env.TEST_DYNAMODB_ENDPOINT = dynamodb.endpoint;
    process.env.TEST_FAUXQS_ENDPOINT = fauxqs.endpoint;
    const clients = localClients();
    await createProductsTable(clients.ddb, 'bench-products');
    await createIdempotencyTable(clients.ddb, 'bench-idempotency');
    await createBucket(clients.s3, 'bench-audit');
    const { topicArn, queues: [writer, audit] } = await createFanOut(clients, 'bench', ['writer', 'audit']);
    configureHandlerEnv({
      PRODUCTS_TABLE_NAME: 'bench-products',
      IDEMPOTENCY_TABLE_NAME: 'bench-idempotency',
      CHANGES_TOPIC_ARN: topicArn,
      AUDIT_BUCKET_NAME: 'bench-audit',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
      PAGE_TOKEN_SECRET_ARN: secrets.put('bench-page-token', 'bench-page-token-key-0123456789abcdef'),
      CALLER_IDENTITY: 'apiKey',
    });

    let counts: Counts = {};
    const bundle = await bundleEntry(path.join(__dirname, 'instrumented-entry.ts'), path.join(__dirname, '.out', 'instrumented.js'));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(bundle.file);
    countCalls(mod.dynamoDbClient, 'DynamoDB', counts);
    if (mod.documentClient.middlewareStack !== mod.dynamoDbClient.middlewareStack) countCalls(mod.documentClient, 'DynamoDB', counts);
    countCalls(mod.snsClient, 'SNS', counts);
    countCalls(mod.s3Client, 'S3', counts);
    countCalls(mod.secretsManagerClient, 'SecretsManager', counts);
    const { read, apply, audit: auditFn } = mod;
    // As API Gateway calls it once the API key let the caller in (the identity goes into the change).
    const accept = (event: any, context: any) => mod.accept({ ...event, requestContext: { identity: { apiKeyId: 'benchkey01' } } }, context);

    const results: Array<{ operation: string; calls: Counts }> = [];
    const measure = async (operation: string, run: () => Promise<unknown>) => {
      counts = Object.assign(counts, Object.fromEntries(Object.keys(counts).map((k) => [k, 0])));
      await run();
      results.push({ operation, calls: Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0)) });
    };
    const deliver = async () => {
      for (const [queue, fn] of [[writer, apply], [audit, auditFn]] as const) {
        const messages = await receive(clients.sqs, queue.url, 10, 1);
        const result = await fn(toSqsEvent(messages, queue.arn), fakeContext());
        if (result.batchItemFailures.length) throw new Error(`bench: ${queue.url} had failures`);
        await deleteMessages(clients.sqs, queue.url, messages);
      }
    };
    const body = { name: 'Bench kettle', price: 25, currency: 'EUR' };
    let productId = '';
    await measure('create (accept + write + audit)', async () => {
      const res = await accept(apiEvent({ method: 'POST', body }), fakeContext());
      productId = JSON.parse(res.body).productId;
      await deliver();
    });
    await measure('get', () => read(apiEvent({ method: 'GET', productId }), fakeContext()));
    await measure('list (one page)', () => read(apiEvent({ method: 'GET' }), fakeContext()));
    await measure('update (accept + write + audit)', async () => {
      await accept(apiEvent({ method: 'PUT', productId, body: { ...body, price: 30 } }), fakeContext());
      await deliver();
    });
    await measure('delete (accept + write + audit)', async () => {
      await accept(apiEvent({ method: 'DELETE', productId }), fakeContext());
      await deliver();
    });
    return results;
  } finally {
    await Promise.all([dynamodb.stop(), fauxqs.stop(), secrets.stop()]);
  }
}
