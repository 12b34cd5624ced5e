import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { countCalls, type Counts } from './aws-calls';
import { PaymentOutboxDefaults } from '../../lib/payment-outbox/contract';
import { bundleEntry } from '../harness/bundle-handler';
import { startDynamoDbLocal } from '../harness/emulator-processes';
import { configureHandlerEnv, fakeContext, localClients } from '../harness/local-aws';
import { startLocalSecretsManager } from '../harness/local-secrets-manager';
import { createPaymentsTable } from '../payment-outbox/payments-table';
import { providerBody, signedDelivery } from '../payment-outbox/webhook-fixture';

const SECRET = 'whsec_bench_0123456789';

export interface WebhookBench {
  readonly sequential: { n: number; p50: number; p95: number; p99: number; max: number };
  readonly concurrent: { n: number; wallMs: number; perSecond: number };
  readonly callsPerWebhook: Counts;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/**
 * Handler latency of the payment webhook (signature check, validation, 2 consistent reads
 * and one TransactWriteItems) against DynamoDB Local on this machine: warm container,
 * sequential deliveries of distinct payments, then a concurrent burst.
 */
export async function measureWebhook(n = 300): Promise<WebhookBench> {
  const dynamodb = await startDynamoDbLocal();
  const secrets = await startLocalSecretsManager();
  try {
    process.env.TEST_DYNAMODB_ENDPOINT = dynamodb.endpoint;
    process.env.TEST_FAUXQS_ENDPOINT = dynamodb.endpoint; // unused here; localClients wants both
    const clients = localClients();
    await createPaymentsTable(clients.ddb, 'bench-payments');
    configureHandlerEnv({
      PAYMENTS_TABLE_NAME: 'bench-payments',
      SIGNING_SECRET_ARN: secrets.put('bench-signing', JSON.stringify({ current: SECRET })),
      SIGNATURE_TOLERANCE_SECONDS: String(PaymentOutboxDefaults.signatureToleranceSeconds),
      OUTBOX_RETENTION_SECONDS: String(PaymentOutboxDefaults.outboxRetentionSeconds),
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
    });
    const bundle = await bundleEntry(path.join(__dirname, 'payment-entry.ts'), path.join(__dirname, '.out', 'payment-entry.js'));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(bundle.file);
    const counts: Counts = {};
    countCalls(mod.dynamoDbClient, 'DynamoDB', counts);
    countCalls(mod.secretsManagerClient, 'SecretsManager', counts);
    const deliver = async () => {
      const res = await mod.webhook(signedDelivery({ body: providerBody('payment.succeeded', `pay_${randomUUID()}`), secret: SECRET }), fakeContext());
      if (res.statusCode !== 200) throw new Error(`bench: webhook answered ${res.statusCode}: ${res.body}`);
    };
    for (let i = 0; i < 30; i++) await deliver(); // warm the container: JIT, connections, secret cache

    for (const k of Object.keys(counts)) counts[k] = 0;
    await deliver();
    const callsPerWebhook = { ...counts };

    const samples: number[] = [];
    for (let i = 0; i < n; i++) {
      const start = process.hrtime.bigint();
      await deliver();
      samples.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    samples.sort((a, b) => a - b);
    const burst = 100;
    const start = process.hrtime.bigint();
    await Promise.all(Array.from({ length: burst }, deliver));
    const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
    return {
      sequential: { n, p50: percentile(samples, 50), p95: percentile(samples, 95), p99: percentile(samples, 99), max: samples[samples.length - 1] },
      concurrent: { n: burst, wallMs, perSecond: (burst / wallMs) * 1000 },
      callsPerWebhook,
    };
  } finally {
    await secrets.stop();
    await dynamodb.stop();
  }
}
