import { createHash, randomBytes } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context, DynamoDBBatchResponse, DynamoDBStreamEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { Webhook } from 'standardwebhooks';
import { s3ObjectCreatedNotification } from './s3-notification';
import { deliveryQueue, stubResolver } from './webhook-delivery-fixture';
import { craftZip, yazlZip } from './zip-corpus';
import type { DeliverTestHooks } from '../../functions/build-pipeline/deliver-webhooks';
import { generateSigningSecret } from '../../functions/shared/outbound-webhook/standard-webhooks-signer';
import {
  ArtifactLayout, BUILD_EVENT_SOURCE, BUILD_JOBS_TABLE_SCHEMA as S, BuildEvents, BuildPipelineEnv as E, CONTAINER_BUILDS_DISABLED,
  DEFAULT_BUILD_JOB_SETTINGS, DEFAULT_ZIP_LIMITS, UploadLayout, type WebhookSettings, DEFAULT_WEBHOOK_SETTINGS,
} from '../../lib/build-pipeline/contract';
import { loadHandler, shippedBundle } from '../harness/bundle-handler';
import { readStream } from '../harness/dynamodb-stream';
import {
  apiEvent, configureHandlerEnv, createBucket, createQueue, deleteMessages, endpoints, fakeContext, localClients, receive, toSqsEvent, uniqueName,
} from '../harness/local-aws';
import { startLocalEventBridge, type LocalEventBridge } from '../harness/local-eventbridge';
import { postForm, startS3PostGate, type S3PostGate } from '../harness/local-s3-post-gate';
import { createLocalTable } from '../harness/local-table';
import { startVersionedSecretsManager, type VersionedSecretsManager } from '../harness/local-versioned-secrets-manager';
import { hasOpenssl, selfSignedCertificate, startReceiver, type Receiver } from '../shared/outbound-webhook/receiver';

/*
 * The whole pipeline as a user meets it, every step a shipped bundle on the local engines:
 * POST /v1.0/builds → the presigned POST through a gate that enforces S3's policy rules →
 * the upload's notification on the build queue (fauxqs sends no S3 notifications: the one
 * hop done by hand) → the worker → the jobs table's stream → the event publisher → the
 * events as the bus rule hands them to the delivery queue → signed webhooks to an HTTPS
 * receiver → GET /v1.0/builds/{jobId} and its delivery log.
 */
type HttpFn = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
type SqsFn = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
type StreamFn = (event: DynamoDBStreamEvent, context: Context) => Promise<DynamoDBBatchResponse>;

const HOST = 'hooks.example';
const BUS = 'builds-bus';
const MAX_UPLOAD_BYTES = 64 * 1024;
const WEBHOOKS: WebhookSettings = { ...DEFAULT_WEBHOOK_SETTINGS, baseDelayMs: 1_000, maxDelayMs: 2_000, timeoutMs: 2_000 };
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const describeTls = hasOpenssl() ? describe : describe.skip;

/** Loads a bundle as a fresh container with these variables (each handler's clients read their endpoints at init). */
function load<T>(entry: string, env: Record<string, string>): T {
  configureHandlerEnv(env);
  let fn!: T;
  jest.isolateModules(() => { fn = loadHandler<T>(shippedBundle(entry)); });
  return fn;
}

describeTls('BuildPipeline end to end (shipped bundles, local engines)', () => {
  const clients = localClients();
  const uploads = uniqueName('uploads');
  const artifacts = uniqueName('artifacts');
  const tableName = uniqueName('build-flow');
  const secret = generateSigningSecret();
  let streamArn: string;
  let gate: S3PostGate;
  let bus: LocalEventBridge;
  let sm: VersionedSecretsManager;
  let receiver: Receiver;
  let buildQueueUrl: string;
  let webhooks: Awaited<ReturnType<typeof deliveryQueue>>;
  let createFn: HttpFn;
  let readFn: HttpFn;
  let worker: SqsFn;
  let publisher: StreamFn;
  let deliverer: SqsFn;
  let streamSeen = 0;

  beforeAll(async () => {
    const table = await createLocalTable(clients.ddb, tableName, {
      partitionKey: S.partitionKey,
      sortKey: S.sortKey,
      indexes: [S.functionIndex, S.awaitingUploadIndex],
      streamViewType: 'NEW_AND_OLD_IMAGES',
      timeToLiveAttribute: S.timeToLiveAttribute,
    });
    streamArn = table.LatestStreamArn!;
    await Promise.all([createBucket(clients.s3, uploads), createBucket(clients.s3, artifacts)]);
    buildQueueUrl = await createQueue(clients.sqs, uniqueName('builds'));
    webhooks = await deliveryQueue(clients, WEBHOOKS.maxAttempts);
    gate = await startS3PostGate({ target: endpoints().fauxqs });
    bus = await startLocalEventBridge();
    sm = await startVersionedSecretsManager();
    const tls = selfSignedCertificate(HOST);
    receiver = await startReceiver({ '/hooks': (_req, res) => res.writeHead(200).end('ok') }, tls);

    const common = {
      [E.JOBS_TABLE_NAME]: tableName,
      [E.UPLOADS_BUCKET_NAME]: uploads,
      [E.ZIP_LIMITS]: JSON.stringify({ ...DEFAULT_ZIP_LIMITS, maxUploadBytes: MAX_UPLOAD_BYTES }),
      [E.JOB_SETTINGS]: JSON.stringify(DEFAULT_BUILD_JOB_SETTINGS),
      [E.CONTAINER_BUILD_PROJECT]: CONTAINER_BUILDS_DISABLED,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.endpoint,
      // S3 as the handlers see it: the gate checks browser POSTs and passes every other request to fauxqs.
      AWS_ENDPOINT_URL_S3: gate.endpoint,
    };
    createFn = load<HttpFn>('functions/build-pipeline/create-build.ts', common);
    readFn = load<HttpFn>('functions/build-pipeline/read-builds.ts', {
      ...common, [E.PAGE_TOKEN_SECRET_ARN]: sm.create(uniqueName('page-token'), randomBytes(32).toString('hex')),
    });
    worker = load<SqsFn>('functions/build-pipeline/build-worker.ts', { ...common, [E.ARTIFACTS_BUCKET_NAME]: artifacts });
    publisher = load<StreamFn>('functions/build-pipeline/publish-build-events.ts', { [E.EVENT_BUS_NAME]: BUS, AWS_ENDPOINT_URL_EVENTBRIDGE: bus.endpoint });
    configureHandlerEnv({
      ...common,
      [E.WEBHOOK_SECRET_ARN]: sm.create(uniqueName('webhook-secret'), JSON.stringify({ current: secret })),
      [E.WEBHOOK_SETTINGS]: JSON.stringify(WEBHOOKS),
    });
    let mod!: { createDeliverWebhooksHandler(hooks: DeliverTestHooks): SqsFn };
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    jest.isolateModules(() => { mod = require(shippedBundle('functions/build-pipeline/deliver-webhooks.ts').file); });
    // The production guard, but for the receiver on 127.0.0.1 (named by a stub resolver) and its test CA.
    deliverer = mod.createDeliverWebhooksHandler({
      guard: { allowAddress: (ip: string) => ip === '127.0.0.1', resolve: stubResolver({ [HOST]: ['127.0.0.1'] }).resolve, ca: tls.cert },
    });
  });
  afterAll(async () => {
    await receiver?.close();
    await Promise.all([gate?.stop(), bus?.stop(), sm?.stop()]);
    for (const client of [clients.ddb, clients.sqs, clients.s3]) client.destroy();
  });

  const api = (fn: HttpFn, method: string, path: string, body?: unknown, query?: Record<string, string>) => {
    const jobId = /^\/v1\.0\/builds\/([^/]+)/.exec(path)?.[1];
    const resource = path.replace(/^\/v1\.0\/builds\/[^/]+/, '/v1.0/builds/{jobId}');
    return fn({ ...apiEvent({ method, body, query }), resource, path, pathParameters: jobId ? { jobId } : null }, fakeContext('builds-api'));
  };
  const json = (r: APIGatewayProxyResult) => JSON.parse(r.body);
  /** The receiver's webhooks of one job, in job-version order. */
  const hooksOf = (jobId: string) => receiver.received
    .filter((r) => r.path === '/hooks' && JSON.parse(r.body).payload.jobId === jobId)
    .sort((a, b) => JSON.parse(a.body).payload.jobVersion - JSON.parse(b.body).payload.jobVersion);

  /** The worker as its SQS event source runs it: receive from the build queue, invoke, delete what succeeded. */
  async function runWorker(): Promise<SQSBatchResponse> {
    const messages = await receive(clients.sqs, buildQueueUrl, 10, 1);
    expect(messages).toHaveLength(1);
    const result = await worker(toSqsEvent(messages, 'arn:aws:sqs:us-east-1:000000000000:builds'), fakeContext('build-worker'));
    await deleteMessages(clients.sqs, buildQueueUrl, messages);
    return result;
  }

  /** The stream records since the last call → the publisher → what it put on the bus, as the rule hands each to the delivery queue. */
  async function publishAndDeliver(): Promise<string[]> {
    const records = (await readStream(streamArn)).slice(streamSeen);
    streamSeen += records.length;
    const before = bus.accepted.length;
    expect(await publisher({ Records: records }, fakeContext('build-publisher'))).toEqual({ batchItemFailures: [] });
    const published = bus.accepted.slice(before);
    for (const entry of published) {
      expect(entry.Source).toBe(BUILD_EVENT_SOURCE);
      await webhooks.send(JSON.stringify({
        'version': '0',
        'id': entry.EventId,
        'detail-type': entry.DetailType,
        'source': entry.Source,
        'account': '000000000000',
        'time': new Date().toISOString(),
        'region': 'us-east-1',
        'resources': [],
        'detail': JSON.parse(entry.Detail!),
      }));
    }
    while (await webhooks.poll(deliverer)) { /* until the queue is drained */ }
    return published.map((e) => e.DetailType!);
  }

  /** What S3 would put on the build queue for this upload. */
  const notifyUpload = (jobId: string, size: number) =>
    clients.sqs.send(new SendMessageCommand({
      QueueUrl: buildQueueUrl, MessageBody: s3ObjectCreatedNotification(uploads, UploadLayout.key(jobId), size),
    }));
  const getObject = async (bucket: string, key: string) =>
    Buffer.from(await (await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray());

  async function createAndUpload(zip: Buffer) {
    const created = await api(createFn, 'POST', '/v1.0/builds', {
      functionName: 'orders-api', runtime: 'nodejs24.x', webhookUrl: `https://${HOST}:${receiver.port}/hooks`,
    });
    expect(created.statusCode).toBe(202);
    const { jobId, upload } = json(created);
    const posted = await postForm(upload.url, upload.fields, zip);
    return { jobId, posted };
  }

  test('a ZIP uploaded with the presigned POST becomes a completed build: artifact, events, signed webhooks, status and delivery log', async () => {
    const zip = await yazlZip([
      { name: 'index.js', data: 'exports.handler = async () => ({ ok: true });\n' },
      { name: 'lib/util.js', data: 'module.exports = 42;\n' },
    ]);
    const { jobId, posted } = await createAndUpload(zip);
    expect(posted.status).toBe(204);
    expect(json(await api(readFn, 'GET', `/v1.0/builds/${jobId}`))).toMatchObject({ status: 'awaiting_upload' });

    await notifyUpload(jobId, zip.length);
    expect(await runWorker()).toEqual({ batchItemFailures: [] });
    expect(await publishAndDeliver()).toEqual([BuildEvents.QUEUED, BuildEvents.STARTED, BuildEvents.COMPLETED]);

    // The artifact: only under builds/{jobId}/, and the job's SHA-256 and size are the deployment ZIP's.
    const listed = await clients.s3.send(new ListObjectsV2Command({ Bucket: artifacts }));
    expect((listed.Contents ?? []).map((o) => o.Key).sort()).toEqual([
      ArtifactLayout.artifactKey(jobId), ArtifactLayout.fileKey(jobId, 'index.js'), ArtifactLayout.fileKey(jobId, 'lib/util.js'), ArtifactLayout.manifestKey(jobId),
    ].sort());
    const artifact = await getObject(artifacts, ArtifactLayout.artifactKey(jobId));
    const status = json(await api(readFn, 'GET', `/v1.0/builds/${jobId}`));
    expect(status).toMatchObject({
      jobId,
      status: 'completed',
      artifact: { bucket: artifacts, key: ArtifactLayout.artifactKey(jobId), sha256: sha256(artifact), size: artifact.length, fileCount: 2 },
    });

    // Three webhooks, one per status change, each verified by the Standard Webhooks reference verifier.
    // Deliveries run concurrently, so they may arrive in any order: receivers order them by payload.jobVersion.
    const hooks = hooksOf(jobId);
    type Delivered = { eventId: string; eventType: string; payload: { status: string } };
    const bodies = hooks.map((h) => new Webhook(secret).verify(h.body, h.headers as Record<string, string>) as Delivered);
    expect(bodies.map((b) => [b.eventType, b.payload.status])).toEqual([
      [BuildEvents.QUEUED, 'queued'], [BuildEvents.STARTED, 'building'], [BuildEvents.COMPLETED, 'completed'],
    ]);
    expect(hooks.map((h) => h.headers['webhook-id'])).toEqual(bodies.map((b) => b.eventId));
    expect(bodies[2]).toMatchObject({ payload: { artifact: { sha256: sha256(artifact), key: ArtifactLayout.artifactKey(jobId) } } });

    const deliveries = json(await api(readFn, 'GET', `/v1.0/builds/${jobId}/deliveries`));
    expect(deliveries.items).toHaveLength(3);
    for (const d of deliveries.items) expect(d).toMatchObject({ state: 'delivered', attempts: [expect.objectContaining({ statusCode: 200 })] });
  });

  test('an upload over the size limit is refused by the POST policy: nothing stored, the job still awaits its upload', async () => {
    const { jobId, posted } = await createAndUpload(randomBytes(MAX_UPLOAD_BYTES + 1));
    expect(posted.status).toBe(400);
    expect(posted.code).toBe('EntityTooLarge');
    const stored = await clients.s3.send(new ListObjectsV2Command({ Bucket: uploads, Prefix: UploadLayout.key(jobId) }));
    expect(stored.KeyCount ?? 0).toBe(0);
    expect(json(await api(readFn, 'GET', `/v1.0/builds/${jobId}`))).toMatchObject({ status: 'awaiting_upload' });
  });

  test('a hostile archive (path traversal) ends failed with its reason, in the status and in the BuildFailed webhook; nothing written', async () => {
    const zip = craftZip([{ name: '../../etc/passwd', data: Buffer.from('root:x:0:0') }]);
    const { jobId, posted } = await createAndUpload(zip);
    expect(posted.status).toBe(204);
    await notifyUpload(jobId, zip.length);
    expect(await runWorker()).toEqual({ batchItemFailures: [] });
    expect(await publishAndDeliver()).toEqual([BuildEvents.QUEUED, BuildEvents.STARTED, BuildEvents.FAILED]);

    expect(json(await api(readFn, 'GET', `/v1.0/builds/${jobId}`))).toMatchObject({ status: 'failed', failureReason: 'UNSAFE_PATH' });
    const written = await clients.s3.send(new ListObjectsV2Command({ Bucket: artifacts, Prefix: ArtifactLayout.prefix(jobId) }));
    expect(written.KeyCount ?? 0).toBe(0);
    const failed = hooksOf(jobId).map((h) => JSON.parse(h.body));
    expect(failed.at(-1)).toMatchObject({ eventType: BuildEvents.FAILED, payload: { status: 'failed', failureReason: 'UNSAFE_PATH' } });
  });
});
