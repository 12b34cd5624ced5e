import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import {
  completeBuild, createJob, expireUpload, failBuild, handOffLease, markQueued, startBuild, type JobStoreServices,
} from '../../functions/build-pipeline/job-store';
import { deterministicUuid } from '../../functions/shared/deterministic-id';
import { BUILD_EVENT_SOURCE, BUILD_JOBS_TABLE_SCHEMA as S, BuildEvents, DeliveryLogLayout } from '../../lib/build-pipeline/contract';
import { loadHandler, shippedBundle } from '../harness/bundle-handler';
import { readStream } from '../harness/dynamodb-stream';
import { configureHandlerEnv, fakeContext, localClients, uniqueName } from '../harness/local-aws';
import { startLocalEventBridge, type LocalEventBridge } from '../harness/local-eventbridge';
import { createLocalTable } from '../harness/local-table';

type StreamFn = (event: DynamoDBStreamEvent, context: unknown) => Promise<DynamoDBBatchResponse>;
const BUS = 'build-bus';
const ARTIFACT = {
  bucket: 'artifacts', key: 'builds/x/artifact.zip', manifestKey: 'builds/x/manifest.json', sha256: 'a'.repeat(64), size: 1234, fileCount: 3,
};

/**
 * Jobs driven through the job store on DynamoDB Local; the jobs table's stream (as the
 * construct configures it, NEW_AND_OLD_IMAGES) is read back and fed to the shipped bundle,
 * whose PutEvents calls reach a local EventBridge endpoint.
 */
describe('build event publisher', () => {
  const clients = localClients();
  let bus: LocalEventBridge;
  let publish: StreamFn;
  beforeAll(async () => {
    bus = await startLocalEventBridge();
    // INFO: the construct's build metrics count the publisher's per-event log lines (asserted below).
    configureHandlerEnv({ EVENT_BUS_NAME: BUS, AWS_ENDPOINT_URL_EVENTBRIDGE: bus.endpoint, POWERTOOLS_LOG_LEVEL: 'INFO' });
    publish = loadHandler<StreamFn>(shippedBundle('functions/build-pipeline/publish-build-events.ts'));
  });
  afterAll(() => bus.stop());
  let logLines: any[] = [];
  beforeEach(() => {
    bus.accepted.length = 0;
    bus.calls.length = 0;
    logLines = [];
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: any) => {
      for (const line of String(chunk).split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
      return true;
    });
  });
  afterEach(() => jest.restoreAllMocks());

  /** A jobs table with its stream, fresh per test so the stream holds that test's records only. */
  async function streamedJobs() {
    const tableName = uniqueName('build-events');
    const table = await createLocalTable(clients.ddb, tableName, {
      partitionKey: S.partitionKey, sortKey: S.sortKey, indexes: [S.functionIndex, S.awaitingUploadIndex], streamViewType: 'NEW_AND_OLD_IMAGES',
    });
    const clock = { now: new Date('2026-11-29T08:00:00.000Z') };
    const services: JobStoreServices = { db: clients.doc, tableName, now: () => clock.now };
    const advance = (seconds: number) => { clock.now = new Date(clock.now.getTime() + seconds * 1000); };
    const create = async () => (await createJob({ functionName: 'orders', runtime: 'nodejs24.x', webhookUrl: 'https://hooks.example.com/b', correlationId: 'corr-1' }, services)).job;
    return { tableName, services, advance, create, stream: () => readStream(table.LatestStreamArn!) };
  }
  const invoke = (records: DynamoDBRecord[]) => publish({ Records: records }, fakeContext('build-publisher'));

  test('awaiting → queued → building → completed: exactly BuildQueued, BuildStarted, BuildCompleted', async () => {
    const t = await streamedJobs();
    const job = await t.create();
    t.advance(30);
    await markQueued(job.jobId, t.services);
    t.advance(5);
    await startBuild(job.jobId, 'worker-a', t.services);
    t.advance(20);
    const done = await completeBuild(job.jobId, 'worker-a', ARTIFACT, t.services);
    const records = await t.stream();
    expect(records.map((r) => r.eventName)).toEqual(['INSERT', 'MODIFY', 'MODIFY', 'MODIFY']);

    expect(await invoke(records)).toEqual({ batchItemFailures: [] });
    expect(bus.accepted.map((e) => [e.EventBusName, e.Source, e.DetailType])).toEqual([
      [BUS, BUILD_EVENT_SOURCE, BuildEvents.QUEUED],
      [BUS, BUILD_EVENT_SOURCE, BuildEvents.STARTED],
      [BUS, BUILD_EVENT_SOURCE, BuildEvents.COMPLETED],
    ]);
    const [queued, started, completed] = bus.details();
    expect(queued).toMatchObject({ occurredAt: '2026-11-29T08:00:30.000Z', payload: { status: 'queued', jobVersion: 2 } });
    expect(started).toMatchObject({ occurredAt: '2026-11-29T08:00:35.000Z', payload: { status: 'building', jobVersion: 3 } });
    expect(completed).toEqual({
      eventId: deterministicUuid(`build-pipeline:${job.jobId}:completed`),
      eventType: BuildEvents.COMPLETED,
      correlationId: 'corr-1',
      occurredAt: '2026-11-29T08:00:55.000Z',
      source: BUILD_EVENT_SOURCE,
      version: 1,
      payload: {
        jobId: job.jobId,
        functionName: 'orders',
        runtime: 'nodejs24.x',
        handler: 'index.handler',
        status: 'completed',
        jobVersion: 4,
        createdAt: job.createdAt,
        updatedAt: '2026-11-29T08:00:55.000Z',
        artifact: ARTIFACT,
      },
    });
    expect(done.outcome === 'changed' && done.job.version).toBe(4);
    // no webhook URL, lease or index internals leave the table
    expect(bus.accepted.map((e) => e.Detail).join()).not.toMatch(/hooks\.example|leaseOwner|leaseExpiresAt|AW_SK|FN_PK|"ttl"/);

    // one log line per published event, `eventType` at the top: the construct's metric filters count them
    expect(logLines.filter((l) => l.message === 'Build event published').map((l) => [l.eventType, l.jobId, l.correlationId]))
      .toEqual([[BuildEvents.QUEUED, job.jobId, 'corr-1'], [BuildEvents.STARTED, job.jobId, 'corr-1'], [BuildEvents.COMPLETED, job.jobId, 'corr-1']]);

    // a re-processed batch (Lambda's retry) sends the same ids: receivers dedupe on them
    const firstIds = bus.details().map((d) => d.eventId);
    expect(new Set(firstIds).size).toBe(3);
    expect(await invoke(records)).toEqual({ batchItemFailures: [] });
    expect(bus.details().slice(3).map((d) => d.eventId)).toEqual(firstIds);
  });

  test('a failed build emits BuildFailed with its reason; an expired upload too; a job without correlation id uses its job id', async () => {
    const t = await streamedJobs();
    const job = await t.create();
    await markQueued(job.jobId, t.services);
    await startBuild(job.jobId, 'worker-a', t.services);
    await failBuild(job.jobId, 'worker-a', { reason: 'UNSAFE_PATH', message: 'Entry ../x leaves the archive' }, t.services);
    const lonely = (await createJob({ functionName: 'billing', runtime: 'python3.13' }, t.services)).job;
    t.advance(16 * 60);
    await expireUpload(lonely.jobId, t.services);

    expect(await invoke(await t.stream())).toEqual({ batchItemFailures: [] });
    expect(bus.accepted.map((e) => e.DetailType)).toEqual([BuildEvents.QUEUED, BuildEvents.STARTED, BuildEvents.FAILED, BuildEvents.FAILED]);
    const [, , failed, expired] = bus.details();
    expect(failed).toMatchObject({ correlationId: 'corr-1', payload: { status: 'failed', failureReason: 'UNSAFE_PATH', failureMessage: 'Entry ../x leaves the archive' } });
    expect(failed.payload.artifact).toBeUndefined();
    expect(expired).toMatchObject({
      eventId: deterministicUuid(`build-pipeline:${lonely.jobId}:failed`),
      correlationId: lonely.jobId,
      payload: { jobId: lonely.jobId, status: 'failed', failureReason: 'UPLOAD_EXPIRED' },
    });
  });

  test('a lease takeover, a hand-off, delivery-log items and TTL removals emit nothing', async () => {
    const t = await streamedJobs();
    const job = await t.create();
    await markQueued(job.jobId, t.services);
    await startBuild(job.jobId, 'worker-a', t.services);
    t.advance(17 * 60); // past the lease
    expect(await startBuild(job.jobId, 'worker-b', t.services)).toMatchObject({ outcome: 'changed', takeover: true });
    await handOffLease(job.jobId, 'worker-b', 'codebuild:p:1', 3600, { containerBuildId: 'p:1' }, t.services);
    await t.services.db.send(new PutCommand({
      TableName: t.tableName,
      Item: { PK: `JOB#${job.jobId}`, SK: DeliveryLogLayout.sortKey('e-1'), status: 'completed', state: 'delivered', updatedAt: '2026-11-29T08:30:00.000Z' },
    }));
    await t.services.db.send(new PutCommand({
      TableName: t.tableName,
      Item: { PK: `JOB#${job.jobId}`, SK: DeliveryLogLayout.sortKey('e-1'), status: 'failed', state: 'retrying', updatedAt: '2026-11-29T08:31:00.000Z' },
    }));
    await t.services.db.send(new DeleteCommand({ TableName: t.tableName, Key: { PK: `JOB#${job.jobId}`, SK: 'JOB' } }));
    const records = await t.stream();
    expect(records.map((r) => r.eventName)).toEqual(['INSERT', 'MODIFY', 'MODIFY', 'MODIFY', 'MODIFY', 'INSERT', 'MODIFY', 'REMOVE']);

    expect(await invoke(records)).toEqual({ batchItemFailures: [] });
    expect(bus.accepted.map((e) => e.DetailType)).toEqual([BuildEvents.QUEUED, BuildEvents.STARTED]);
  });

  test('an entry the bus refuses on every attempt is reported by its sequence number; the retry publishes it', async () => {
    const t = await streamedJobs();
    const job = await t.create();
    await markQueued(job.jobId, t.services);
    await startBuild(job.jobId, 'worker-a', t.services);
    await completeBuild(job.jobId, 'worker-a', ARTIFACT, t.services);
    const records = await t.stream();
    bus.failEntries((e) => e.DetailType === BuildEvents.STARTED, 3);

    expect(await invoke(records)).toEqual({ batchItemFailures: [{ itemIdentifier: records[2].dynamodb!.SequenceNumber }] });
    expect(bus.accepted.map((e) => e.DetailType)).toEqual([BuildEvents.QUEUED, BuildEvents.COMPLETED]);
    // the refused event is not logged (nor counted) as published
    expect(logLines.filter((l) => l.message === 'Build event published').map((l) => l.eventType)).toEqual([BuildEvents.QUEUED, BuildEvents.COMPLETED]);
    // Lambda retries from the reported record: the later one goes out again with its id
    expect(await invoke(records.slice(2))).toEqual({ batchItemFailures: [] });
    expect(bus.accepted.map((e) => e.DetailType)).toEqual([BuildEvents.QUEUED, BuildEvents.COMPLETED, BuildEvents.STARTED, BuildEvents.COMPLETED]);
    expect(bus.details()[3].eventId).toBe(bus.details()[1].eventId);
  });

  test('a refused entry is re-sent inside the invocation and published once', async () => {
    const t = await streamedJobs();
    const job = await t.create();
    await markQueued(job.jobId, t.services);
    bus.failEntries(() => true, 1, 'ThrottlingException');
    expect(await invoke(await t.stream())).toEqual({ batchItemFailures: [] });
    expect(bus.accepted.map((e) => e.DetailType)).toEqual([BuildEvents.QUEUED]);
  });

  test('a job item whose status has no event stops the batch there; earlier records are published', async () => {
    const t = await streamedJobs();
    const job = await t.create();
    await markQueued(job.jobId, t.services);
    await t.services.db.send(new PutCommand({ TableName: t.tableName, Item: { PK: 'JOB#broken', SK: 'JOB', status: 'queued', jobId: 'broken' } }));
    await t.services.db.send(new PutCommand({ TableName: t.tableName, Item: { PK: 'JOB#broken', SK: 'JOB', status: 'exploded', jobId: 'broken' } }));
    await startBuild(job.jobId, 'worker-a', t.services);
    const records = await t.stream();
    expect(await invoke(records)).toEqual({ batchItemFailures: [{ itemIdentifier: records[3].dynamodb!.SequenceNumber }] });
    expect(bus.accepted.map((e) => e.DetailType)).toEqual([BuildEvents.QUEUED]);
  });
});
