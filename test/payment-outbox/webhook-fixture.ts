import { randomUUID } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { createPaymentsTable } from './payments-table';
import { signPayload } from '../../functions/shared/hmac';
import { PaymentOutboxDefaults, PaymentOutboxEnv } from '../../lib/payment-outbox/contract';
import { bundleHandler, loadHandler } from '../harness/bundle-handler';
import { configureHandlerEnv, fakeContext, LocalClients, localClients, uniqueName } from '../harness/local-aws';
import { LocalSecretsManager, startLocalSecretsManager } from '../harness/local-secrets-manager';

type HttpFn = (event: APIGatewayProxyEvent, context: unknown) => Promise<APIGatewayProxyResult>;

export interface WebhookFixture {
  readonly clients: LocalClients;
  readonly tableName: string;
  readonly secrets: LocalSecretsManager;
  readonly secretName: string;
  /** Calls the bundled webhook handler, as API Gateway's proxy integration would. */
  call(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult>;
  /** Every item stored under a payment (state, ledger, outbox). */
  itemsOf(paymentId: string): Promise<Record<string, any>[]>;
  stop(): Promise<void>;
}

/** Every variable the webhook's contract lists, as the construct sets them with default props (the bench uses it too). */
export function webhookEnvironment(tableName: string, signingSecretArn: string): Record<string, string> {
  return {
    [PaymentOutboxEnv.TABLE_NAME]: tableName,
    [PaymentOutboxEnv.SIGNING_SECRET_ARN]: signingSecretArn,
    [PaymentOutboxEnv.SIGNATURE_TOLERANCE_SECONDS]: String(PaymentOutboxDefaults.signatureToleranceSeconds),
    [PaymentOutboxEnv.OUTBOX_RETENTION_SECONDS]: String(PaymentOutboxDefaults.outboxRetentionSeconds),
  };
}

/** The payments table, a signing secret `{ current }`, and the webhook bundle pointed at both. */
export async function setupWebhook(prefix: string, currentSecret: string): Promise<WebhookFixture> {
  const clients = localClients();
  const tableName = uniqueName(`${prefix}-payments`);
  await createPaymentsTable(clients.ddb, tableName);
  const secrets = await startLocalSecretsManager();
  const secretName = uniqueName(`${prefix}-signing`);
  const secretArn = secrets.put(secretName, JSON.stringify({ current: currentSecret }));
  configureHandlerEnv({ ...webhookEnvironment(tableName, secretArn), AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint });
  const bundle = await bundleHandler('functions/payment-outbox/webhook.ts');
  // A fresh container per fixture (its own config, secret cache and refetch clock), as a
  // second Lambda container would be: the module registry would otherwise hand back the first.
  let handler!: HttpFn;
  jest.isolateModules(() => { handler = loadHandler<HttpFn>(bundle); });
  return {
    clients,
    tableName,
    secrets,
    secretName,
    call: (event) => handler(event, fakeContext('payment-webhook')),
    itemsOf: async (paymentId) => (await clients.doc.send(new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': `PAYMENT#${paymentId}` },
    }))).Items ?? [],
    stop: () => secrets.stop(),
  };
}

export interface Delivery {
  readonly body: unknown;
  readonly secret: string;
  /** Unix seconds; default now. */
  readonly timestamp?: number;
  /** Replaces the signed body after signing (tampering). */
  readonly sentBody?: string;
  readonly headers?: Record<string, string | undefined>;
  readonly base64?: boolean;
}

/** A webhook request as the provider sends it: `timestamp.body` signed with HMAC-SHA256. */
export function signedDelivery(d: Delivery): APIGatewayProxyEvent {
  const raw = typeof d.body === 'string' ? d.body : JSON.stringify(d.body);
  const timestamp = String(d.timestamp ?? Math.floor(Date.now() / 1000));
  const sent = d.sentBody ?? raw;
  const headers = Object.fromEntries(Object.entries({
    'Content-Type': 'application/json',
    'X-Payment-Timestamp': timestamp,
    'X-Payment-Signature': `v1=${signPayload(d.secret, timestamp, raw)}`,
    ...d.headers,
  }).filter(([, v]) => v !== undefined)) as Record<string, string>;
  return {
    httpMethod: 'POST',
    resource: '/v1.0/webhooks/payments',
    path: '/v1.0/webhooks/payments',
    pathParameters: null,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    headers,
    multiValueHeaders: {},
    body: d.base64 ? Buffer.from(sent, 'utf8').toString('base64') : sent,
    isBase64Encoded: d.base64 ?? false,
    stageVariables: null,
    requestContext: {} as APIGatewayProxyEvent['requestContext'],
  };
}

/** A provider event body; `created` defaults to now. */
export function providerBody(
  type: 'payment.pending' | 'payment.succeeded' | 'payment.failed',
  paymentId: string,
  overrides: { id?: string; created?: string; amount?: number; metadata?: Record<string, string> } = {},
) {
  return {
    id: overrides.id ?? `evt_${randomUUID()}`,
    type,
    created: overrides.created ?? new Date().toISOString(),
    data: { paymentId, amount: overrides.amount ?? 4_200, currency: 'EUR', ...(overrides.metadata ? { metadata: overrides.metadata } : {}) },
  };
}

/** A `payment.refunded` body; `created` defaults to now. */
export function refundBody(paymentId: string, refundAmount: number, overrides: { id?: string; created?: string } = {}) {
  return {
    id: overrides.id ?? `evt_${randomUUID()}`,
    type: 'payment.refunded' as const,
    created: overrides.created ?? new Date().toISOString(),
    data: { paymentId, refundAmount },
  };
}

export const parse = (r: APIGatewayProxyResult) => JSON.parse(r.body);
