import * as path from 'node:path';
import { countCalls, type Counts } from './aws-calls';
import { createJob } from '../../functions/build-pipeline/job-store';
import { generateSigningSecret } from '../../functions/shared/outbound-webhook/standard-webhooks-signer';
import { BuildPipelineEnv } from '../../lib/build-pipeline/contract';
import { jobsTable } from '../build-pipeline/jobs-table';
import { buildEventMessage, deliveryQueue, stubResolver, TEST_WEBHOOK_SETTINGS } from '../build-pipeline/webhook-delivery-fixture';
import { bundleEntry } from '../harness/bundle-handler';
import { startDynamoDbLocal, startFauxqs, type EmulatorProcess } from '../harness/emulator-processes';
import { configureHandlerEnv, fakeContext, toSqsEvent } from '../harness/local-aws';
import { startVersionedSecretsManager } from '../harness/local-versioned-secrets-manager';
import { selfSignedCertificate, startReceiver } from '../shared/outbound-webhook/receiver';

export interface BuildWebhookBench {
  readonly sequential: { n: number; p50: number; p95: number; p99: number; max: number };
  /** AWS calls of one delivered event (warm: the secret is cached). */
  readonly callsPerDelivery: Counts;
  /** AWS calls of one attempt answered 503 (retried: visibility changed). */
  readonly callsPerRetry: Counts;
  /** AWS calls of a cold container's first delivery (the secret read included). */
  readonly callsFirstDelivery: Counts;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const HOST = 'receiver.example';

/**
 * Delivery latency of the deliver-webhooks handler (its sources bundled with the handlers'
 * esbuild options, plus its clients for counting) to a local HTTPS receiver: consistent job and
 * log reads, one signed POST over a fresh TLS connection, one log write, against DynamoDB Local
 * on this machine. Warm container, sequential, one event per job.
 */
export async function measureBuildWebhooks(n = 200): Promise<BuildWebhookBench> {
  // Engines already running (TEST_DYNAMODB_ENDPOINT / TEST_FAUXQS_ENDPOINT) are used as they are; else started here.
  const started: EmulatorProcess[] = [];
  const sm = await startVersionedSecretsManager();
  const tls = selfSignedCertificate(HOST);
  const receiver = await startReceiver({ '/ok': (_req, res) => res.writeHead(200).end(), '/fail': (_req, res) => res.writeHead(503).end() }, tls);
  try {
    if (!process.env.TEST_DYNAMODB_ENDPOINT || !process.env.TEST_FAUXQS_ENDPOINT) {
      for (const start of [startDynamoDbLocal, startFauxqs]) started.push(await start());
      process.env.TEST_DYNAMODB_ENDPOINT = started[0].endpoint;
      process.env.TEST_FAUXQS_ENDPOINT = started[1].endpoint;
    }
    const table = await jobsTable();
    const secretArn = sm.create('bench-webhooks', JSON.stringify({ current: generateSigningSecret() }));
    configureHandlerEnv({
      [BuildPipelineEnv.JOBS_TABLE_NAME]: table.tableName,
      [BuildPipelineEnv.WEBHOOK_SECRET_ARN]: secretArn,
      [BuildPipelineEnv.WEBHOOK_SETTINGS]: JSON.stringify({ ...TEST_WEBHOOK_SETTINGS, timeoutMs: 5_000, allowHttp: false }),
      AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.endpoint,
    });
    const bundle = await bundleEntry(path.join(__dirname, 'build-webhook-entry.ts'), path.join(__dirname, '.out', 'build-webhook-entry.js'));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(bundle.file);
    const counts: Counts = {};
    countCalls(mod.dynamoDbClient, 'DynamoDB', counts);
    if (mod.documentClient.middlewareStack !== mod.dynamoDbClient.middlewareStack) countCalls(mod.documentClient, 'DynamoDB', counts);
    countCalls(mod.secretsManagerClient, 'SecretsManager', counts);
    countCalls(mod.sqsClient, 'SQS', counts);
    const guard = { allowAddress: (ip: string) => ip === '127.0.0.1', resolve: stubResolver({ [HOST]: ['127.0.0.1'] }).resolve, ca: tls.cert };
    const handler = mod.createDeliverWebhooksHandler({ guard });
    const queue = await deliveryQueue(table.clients, TEST_WEBHOOK_SETTINGS.maxAttempts, 30);
    const url = `https://${HOST}:${receiver.port}`;

    // One event of a new job, as the queue hands it over (a synthetic receipt: a delivered event never touches SQS).
    const deliverOne = async (pathName = '/ok') => {
      const { job } = await createJob({ functionName: 'bench', runtime: 'nodejs24.x', webhookUrl: `${url}${pathName}` }, table.services);
      const event = toSqsEvent([{ MessageId: job.jobId, ReceiptHandle: job.jobId, Body: buildEventMessage(job.jobId).body, Attributes: { ApproximateReceiveCount: '1' } }], queue.arn);
      return async () => {
        const res = await handler(event, fakeContext('bench-webhooks'));
        if (res.batchItemFailures.length > 0) throw new Error('bench: delivery failed');
      };
    };
    const snapshot = async (run: () => Promise<unknown>) => {
      for (const k of Object.keys(counts)) counts[k] = 0;
      await run();
      return Object.fromEntries(Object.entries(counts).filter(([, v]) => v > 0));
    };
    const callsFirstDelivery = await snapshot(await deliverOne());
    for (let i = 0; i < 30; i++) await (await deliverOne())(); // warm: JIT, TLS code paths, DynamoDB connections
    const callsPerDelivery = await snapshot(await deliverOne());

    const runs = await Promise.all(Array.from({ length: n }, () => deliverOne()));
    const samples: number[] = [];
    for (const run of runs) {
      const start = process.hrtime.bigint();
      await run();
      samples.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    samples.sort((a, b) => a - b);

    // A retried attempt needs a real message (ChangeMessageVisibility on its receipt handle).
    const { job } = await createJob({ functionName: 'bench', runtime: 'nodejs24.x', webhookUrl: `${url}/fail` }, table.services);
    await queue.send(buildEventMessage(job.jobId).body);
    const callsPerRetry = await snapshot(() => queue.poll(handler, 1));
    return {
      sequential: { n, p50: percentile(samples, 50), p95: percentile(samples, 95), p99: percentile(samples, 99), max: samples[samples.length - 1] },
      callsPerDelivery,
      callsPerRetry,
      callsFirstDelivery,
    };
  } finally {
    await receiver.close();
    await sm.stop();
    await Promise.all(started.map((engine) => engine.stop()));
  }
}

/** The bench's report lines (run.ts and this file's own `main`). */
export function printBuildWebhooks(r: BuildWebhookBench): void {
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  console.log(`Build webhooks, ${r.sequential.n} sequential deliveries to a local HTTPS receiver (warm):`);
  console.log(`  p50 ${ms(r.sequential.p50)}  p95 ${ms(r.sequential.p95)}  p99 ${ms(r.sequential.p99)}  max ${ms(r.sequential.max)}`);
  console.log(`  AWS calls per delivered event: ${JSON.stringify(r.callsPerDelivery)}`);
  console.log(`  AWS calls per retried attempt (503): ${JSON.stringify(r.callsPerRetry)}`);
  console.log(`  AWS calls of a cold container's first delivery: ${JSON.stringify(r.callsFirstDelivery)}`);
}

if (require.main === module) {
  measureBuildWebhooks(Number(process.env.BENCH_N ?? 200)).then(printBuildWebhooks, (error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
