import { CreateAliasCommand, CreateFunctionCommand, LambdaClient, PublishVersionCommand } from '@aws-sdk/client-lambda';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import {
  deleteFunction, getFunction, recordDeployment, registerFunction, updateFunction, type RegistryServices,
} from '../../functions/lambda-runtime-service/registry-store';
import {
  awsFunctionName, DEFAULT_FUNCTION_LIMITS, DEFAULT_RUNTIME_SETTINGS, LambdaRuntimeEnv as E, REGISTRY_TABLE_SCHEMA as R, RegistryLayout as L,
} from '../../lib/lambda-runtime-service/contract';
import { yazlZip } from '../build-pipeline/zip-corpus';
import { loadHandler, shippedBundle } from '../harness/bundle-handler';
import { matchesFilter, readStream } from '../harness/dynamodb-stream';
import { configureHandlerEnv, createBucket, endpoints, fakeContext, localClients, REGION, uniqueName } from '../harness/local-aws';
import { startLocalLambda, type LocalLambda } from '../harness/local-lambda/server';
import { startLocalScheduler, type LocalScheduler } from '../harness/local-scheduler';
import { createLocalTable } from '../harness/local-table';

/**
 * The registry stream consumer's shipped bundle, fed the registry table's real stream (DynamoDB
 * Local, NEW_AND_OLD_IMAGES, filtered to META items as the construct filters it), reconciling
 * against the local Scheduler endpoint and the local Lambda endpoint.
 */
jest.setTimeout(60_000);

type StreamFn = (event: DynamoDBStreamEvent, context: Context) => Promise<DynamoDBBatchResponse>;
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const PREFIX = 'plat';
const GROUP = 'plat-schedules';
const ARN_BASE = `arn:aws:lambda:${REGION}:000000000000:function:`;
const SCHEDULER_ROLE = 'arn:aws:iam::000000000000:role/plat-scheduler';
const EXECUTION_ROLE = 'arn:aws:iam::000000000000:role/plat-function';
const DLQ = `arn:aws:sqs:${REGION}:000000000000:plat-schedule-dlq`;
const RETRY = { maximumRetryAttempts: 2, maximumEventAgeSeconds: 900 };
const TOMBSTONE_SECONDS = 3600;
// The construct's filter criteria: META items only.
const META_FILTER = { dynamodb: { Keys: { [R.sortKey]: { S: [L.META_SK] } } } };

const clients = localClients();
const bucket = uniqueName('sync-code');
let tableName: string;
let streamArn: string;
let registry: RegistryServices;
let lambda: LocalLambda;
let lambdaClient: LambdaClient;
let scheduler: LocalScheduler;
let schedulerClient: SchedulerClient;
let sync: StreamFn;
let seen = 0;
let seq = 0;

beforeAll(async () => {
  tableName = uniqueName('sync-registry');
  const table = await createLocalTable(clients.ddb, tableName, {
    partitionKey: R.partitionKey,
    sortKey: R.sortKey,
    indexes: [R.nameIndex, R.createdIndex],
    timeToLiveAttribute: R.timeToLiveAttribute,
    streamViewType: 'NEW_AND_OLD_IMAGES',
  });
  streamArn = table.LatestStreamArn!;
  registry = { db: clients.doc, tableName, now: () => new Date() };
  await createBucket(clients.s3, bucket);
  lambda = await startLocalLambda({ s3Endpoint: endpoints().fauxqs });
  lambdaClient = new LambdaClient({ region: REGION, endpoint: lambda.endpoint, credentials, maxAttempts: 1 });
  // pageSize 2: a function with three schedules is listed in two pages.
  scheduler = await startLocalScheduler({ lambda: lambdaClient, groups: [GROUP], pageSize: 2 });
  schedulerClient = new SchedulerClient({ region: REGION, endpoint: scheduler.endpoint, credentials, maxAttempts: 1 });
  configureHandlerEnv({
    [E.REGISTRY_TABLE_NAME]: tableName,
    [E.FUNCTION_PREFIX]: PREFIX,
    [E.FUNCTION_LIMITS]: JSON.stringify(DEFAULT_FUNCTION_LIMITS),
    [E.FUNCTION_ARN_BASE]: ARN_BASE,
    [E.SCHEDULE_GROUP_NAME]: GROUP,
    [E.SCHEDULER_ROLE_ARN]: SCHEDULER_ROLE,
    [E.SCHEDULE_DLQ_ARN]: DLQ,
    [E.SCHEDULE_SETTINGS]: JSON.stringify(RETRY),
    [E.RUNTIME_SETTINGS]: JSON.stringify({ ...DEFAULT_RUNTIME_SETTINGS, tombstoneRetentionSeconds: TOMBSTONE_SECONDS }),
    AWS_ENDPOINT_URL_SCHEDULER: scheduler.endpoint,
    AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint,
    // Errors only: the failure test reads the handler's error line.
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  });
  sync = loadHandler<StreamFn>(shippedBundle('functions/lambda-runtime-service/sync-registry.ts'));
});
afterAll(async () => {
  await scheduler?.stop();
  await lambda?.close();
  lambdaClient?.destroy();
  schedulerClient?.destroy();
});

/** The stream records written since the last call, as the construct's filter lets them through. */
async function newRecords(): Promise<DynamoDBRecord[]> {
  const all = await readStream(streamArn);
  const fresh = all.slice(seen);
  seen = all.length;
  return fresh.filter((r) => matchesFilter(r, META_FILTER));
}
const run = (records: DynamoDBRecord[]) => sync({ Records: records }, fakeContext('lambda-runtime-sync'));
/** Scheduler calls since `from`, as `Operation name status`. */
const callsSince = (from: number) => scheduler.calls.slice(from).map((c) => `${c.operation} ${c.name ?? c.query.NamePrefix} ${c.status}`);
const writes = (from: number) => scheduler.calls.slice(from).filter((c) => !['ListSchedules', 'GetSchedule'].includes(c.operation));
const fresh = () => `sync-fn-${++seq}`;
const names = (name: string) => scheduler.schedules(GROUP).filter((s) => s.Name.startsWith(`${name}.`)).map((s) => s.Name);

const NIGHTLY = { name: 'nightly', expression: 'cron(0 2 * * ? *)', timezone: 'Europe/Berlin', payload: { task: 'report', options: { b: 2, a: 1 } } };
const EVERY = { name: 'every-5', expression: 'rate(5 minutes)', timezone: 'UTC' };

/** A schedule in the platform's group that the registry does not hold (a hand edit, a crash's leftover). */
const createByHand = (name: string, schedule: string) => schedulerClient.send(new CreateScheduleCommand({
  Name: `${name}.${schedule}`,
  GroupName: GROUP,
  ScheduleExpression: 'rate(1 minute)',
  FlexibleTimeWindow: { Mode: 'OFF' },
  Target: { Arn: `${ARN_BASE}plat-${name}:live`, RoleArn: SCHEDULER_ROLE },
}));

/** What the deploy leaves: `{prefix}-{name}` with a published version behind `live`, recorded in the registry. */
async function deploy(name: string) {
  const key = `${name}/v1.zip`;
  const zip = await yazlZip([{ name: 'index.js', data: `exports.handler = async (event) => ({ fn: '${name}', event });\n` }]);
  await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: zip }));
  const FunctionName = awsFunctionName(PREFIX, name);
  await lambdaClient.send(new CreateFunctionCommand({
    FunctionName, Runtime: 'nodejs24.x', Role: EXECUTION_ROLE, Handler: 'index.handler', Code: { S3Bucket: bucket, S3Key: key },
  }));
  const { Version } = await lambdaClient.send(new PublishVersionCommand({ FunctionName }));
  await lambdaClient.send(new CreateAliasCommand({ FunctionName, Name: 'live', FunctionVersion: Version }));
  const result = await recordDeployment(name, { buildId: `build-${name}`, buildCreatedAt: new Date().toISOString(), lambdaVersion: Version! }, registry);
  expect(result.outcome).toBe('deployed');
}

describe('sync-registry (DynamoDB Local stream, local Scheduler, local Lambda)', () => {
  // Each test reads its own records: what an earlier test left in the stream (a purge's own write) is skipped.
  beforeEach(async () => { await newRecords(); });
  let logLines: any[] = [];
  beforeEach(() => {
    logLines = [];
    // Powertools writes ERROR lines to stderr, the others to stdout.
    for (const stream of [process.stdout, process.stderr]) {
      jest.spyOn(stream, 'write').mockImplementation((chunk: any) => {
        for (const line of String(chunk).split('\n').filter((l) => l.startsWith('{'))) logLines.push(JSON.parse(line));
        return true;
      });
    }
  });
  afterEach(() => jest.restoreAllMocks());

  test('registered: schedules created DISABLED as the contract says; deployed: ENABLED, and a fired schedule runs the function; replays write nothing', async () => {
    const name = fresh();
    await registerFunction({ name, runtime: 'nodejs24.x', schedules: [NIGHTLY, EVERY] }, registry);
    const registered = await newRecords();
    expect(registered.map((r) => r.eventName)).toEqual(['INSERT']);

    expect(await run(registered)).toEqual({ batchItemFailures: [] });
    expect(names(name)).toEqual([`${name}.every-5`, `${name}.nightly`]);
    expect(scheduler.get(GROUP, `${name}.nightly`)).toMatchObject({
      GroupName: GROUP,
      ScheduleExpression: 'cron(0 2 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      State: 'DISABLED', // nothing to invoke yet
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'NONE',
      Target: {
        Arn: `${ARN_BASE}plat-${name}:live`,
        RoleArn: SCHEDULER_ROLE,
        Input: '{"options":{"a":1,"b":2},"task":"report"}',
        DeadLetterConfig: { Arn: DLQ },
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 900 },
      },
    });
    expect(scheduler.get(GROUP, `${name}.every-5`)).toMatchObject({ State: 'DISABLED', ScheduleExpressionTimezone: 'UTC', Target: { Input: '{}' } });

    // A deployment is recorded on the META item: its record enables both.
    await deploy(name);
    const deployed = await newRecords();
    const from = scheduler.calls.length;
    expect(await run(deployed)).toEqual({ batchItemFailures: [] });
    expect(scheduler.schedules(GROUP).filter((s) => s.Name.startsWith(`${name}.`)).map((s) => s.State)).toEqual(['ENABLED', 'ENABLED']);
    expect(writes(from).map((c) => `${c.operation} ${c.name}`)).toEqual([`UpdateSchedule ${name}.every-5`, `UpdateSchedule ${name}.nightly`]);

    // Scheduler's run of the schedule reaches the deployed function through `live`, with the payload as event.
    await scheduler.fire(GROUP, `${name}.nightly`);
    await lambda.drain();
    const ran = lambda.invocations.filter((i) => i.functionName === awsFunctionName(PREFIX, name));
    expect(ran.map((i) => [i.invocationType, i.qualifier, i.executedVersion])).toEqual([['Event', 'live', '1']]);
    const invoke = lambda.calls.filter((c) => c.operation === 'Invoke').pop()!;
    expect(JSON.parse(invoke.input as string)).toEqual({ task: 'report', options: { a: 1, b: 2 } });

    // Every record again, in and out of order: reads only, no write, the same schedules.
    const replay = scheduler.calls.length;
    expect(await run([...registered, ...deployed])).toEqual({ batchItemFailures: [] });
    expect(await run([...deployed, ...registered].reverse())).toEqual({ batchItemFailures: [] });
    expect(writes(replay)).toEqual([]);
    expect(callsSince(replay)).toEqual(Array(2).fill([
      `ListSchedules ${name}. 200`, `GetSchedule ${name}.every-5 200`, `GetSchedule ${name}.nightly 200`,
    ]).flat());
  });

  test('updated: a removed schedule is deleted, a changed one replaced, the unchanged one untouched; an old record replayed changes nothing', async () => {
    const name = fresh();
    const HOURLY = { name: 'hourly', expression: 'rate(1 hour)', timezone: 'UTC', payload: [1, 2] };
    await registerFunction({ name, runtime: 'nodejs24.x', schedules: [NIGHTLY, EVERY, HOURLY] }, registry);
    await deploy(name);
    const before = await newRecords();
    expect(await run(before)).toEqual({ batchItemFailures: [] });
    expect(names(name)).toEqual([`${name}.every-5`, `${name}.hourly`, `${name}.nightly`]);

    await updateFunction(name, { schedules: [{ ...NIGHTLY, expression: 'cron(30 3 * * ? *)', payload: { task: 'audit' } }, HOURLY] }, 1, registry);
    const updated = await newRecords();
    const from = scheduler.calls.length;
    expect(await run(updated)).toEqual({ batchItemFailures: [] });
    expect(writes(from).map((c) => `${c.operation} ${c.name}`)).toEqual([`DeleteSchedule ${name}.every-5`, `UpdateSchedule ${name}.nightly`]);
    // Three schedules, two per page: the listing followed NextToken.
    expect(scheduler.calls.slice(from).filter((c) => c.operation === 'ListSchedules').map((c) => Boolean(c.query.NextToken))).toEqual([false, true]);
    expect(names(name)).toEqual([`${name}.hourly`, `${name}.nightly`]);
    expect(scheduler.get(GROUP, `${name}.nightly`)).toMatchObject({
      ScheduleExpression: 'cron(30 3 * * ? *)', State: 'ENABLED', Target: { Input: '{"task":"audit"}', DeadLetterConfig: { Arn: DLQ } },
    });

    // The registration's record arrives again after the update (a retry, a bisected batch): the current item wins.
    const replay = scheduler.calls.length;
    expect(await run(before)).toEqual({ batchItemFailures: [] });
    expect(writes(replay)).toEqual([]);
    expect(names(name)).toEqual([`${name}.hourly`, `${name}.nightly`]);
    expect(scheduler.get(GROUP, `${name}.nightly`)!.ScheduleExpression).toBe('cron(30 3 * * ? *)');

    // A schedule changed or added by hand in the platform's group is put back / removed.
    await createByHand(name, 'stray');
    expect(await run(updated)).toEqual({ batchItemFailures: [] });
    expect(names(name)).toEqual([`${name}.hourly`, `${name}.nightly`]);
  });

  test('deleted: schedules, the AWS function and the rate bucket gone, then purgedAt; the name can be registered again and gets its own schedules', async () => {
    const name = fresh();
    await registerFunction({ name, runtime: 'nodejs24.x', schedules: [NIGHTLY, EVERY] }, registry);
    await deploy(name);
    // The rate limiter's bucket (its own item, filtered out of the stream by the construct).
    await clients.doc.send(new PutCommand({ TableName: tableName, Item: { [R.partitionKey]: L.functionPk(name), [R.sortKey]: L.RATE_SK, tat: 1 } }));
    expect(await run(await newRecords())).toEqual({ batchItemFailures: [] });
    expect(names(name)).toHaveLength(2);
    expect(lambda.functions.has(awsFunctionName(PREFIX, name))).toBe(true);

    await deleteFunction(name, registry);
    const deleted = await newRecords();
    expect(deleted.map((r) => r.eventName)).toEqual(['MODIFY']); // the RATE item's records were filtered out
    const from = lambda.calls.length;
    expect(await run(deleted)).toEqual({ batchItemFailures: [] });

    expect(names(name)).toEqual([]);
    expect(lambda.functions.has(awsFunctionName(PREFIX, name))).toBe(false);
    expect(lambda.calls.slice(from).map((c) => `${c.operation} ${c.status}`)).toEqual(['DeleteFunction 204']);
    expect(await getRaw(L.functionPk(name), L.RATE_SK)).toBeUndefined();
    const tombstone = await getRaw(L.functionPk(name), L.META_SK);
    expect(tombstone).toMatchObject({ deletedAt: expect.any(String), purgedAt: expect.any(String) });
    const purgedAt = Date.parse(tombstone!.purgedAt);
    expect(tombstone!.ttl).toBe(Math.floor(purgedAt / 1000) + TOMBSTONE_SECONDS);

    // The purge's own record (purgedAt) and the deletion's again: a cheap list, nothing else.
    const purged = await newRecords();
    const replay = scheduler.calls.length;
    const lambdaReplay = lambda.calls.length;
    expect(await run([...deleted, ...purged])).toEqual({ batchItemFailures: [] });
    expect(callsSince(replay)).toEqual([`ListSchedules ${name}. 200`]);
    expect(lambda.calls.slice(lambdaReplay)).toEqual([]);

    // Registered again: a new function with its own (disabled, undeployed) schedules.
    await registerFunction({ name, runtime: 'nodejs24.x', schedules: [EVERY] }, registry);
    expect(await run(await newRecords())).toEqual({ batchItemFailures: [] });
    expect(names(name)).toEqual([`${name}.every-5`]);
    expect(scheduler.get(GROUP, `${name}.every-5`)!.State).toBe('DISABLED');
    // ...and the old deletion's record replayed now leaves the new registration alone.
    expect(await run(deleted)).toEqual({ batchItemFailures: [] });
    expect(names(name)).toEqual([`${name}.every-5`]);
    expect(await getFunction(name, registry)).toMatchObject({ name, schedules: [EVERY] });
  });

  test('a function deleted before any deploy is purged (no AWS function to delete); a missing item keeps no schedule', async () => {
    const name = fresh();
    await registerFunction({ name, runtime: 'nodejs24.x', schedules: [EVERY] }, registry);
    await deleteFunction(name, registry);
    // Both records in one batch: one reconcile, to the current (deleted) item.
    const records = await newRecords();
    expect(records).toHaveLength(2);
    expect(await run(records)).toEqual({ batchItemFailures: [] });
    expect(names(name)).toEqual([]);
    expect(lambda.calls.filter((c) => c.operation === 'DeleteFunction').pop()).toMatchObject({ path: `/2015-03-31/functions/plat-${name}`, status: 404 });
    expect(await getRaw(L.functionPk(name), L.META_SK)).toHaveProperty('purgedAt');

    // A record naming an item that does not exist (any more): its stray schedule is removed.
    const ghost = fresh();
    await createByHand(ghost, 'left');
    const [template] = records;
    const record: DynamoDBRecord = {
      ...template,
      eventName: 'REMOVE',
      dynamodb: { Keys: { [R.partitionKey]: { S: L.functionPk(ghost) }, [R.sortKey]: { S: L.META_SK } }, SequenceNumber: '1', StreamViewType: 'NEW_AND_OLD_IMAGES' },
    };
    expect(await run([record])).toEqual({ batchItemFailures: [] });
    expect(names(ghost)).toEqual([]);
  });

  test('a race with another writer: a create that finds the schedule made (409), then an update that finds it gone (404), ends created', async () => {
    const name = fresh();
    await registerFunction({ name, runtime: 'nodejs24.x', schedules: [EVERY, NIGHTLY] }, registry);
    const registered = await newRecords();
    // Scheduler answers as if another sync had just created `every-5` (409) and then deleted it (404 on our update).
    scheduler.failCalls((c) => c.operation === 'CreateSchedule' && c.name === `${name}.every-5`, 1, 'ConflictException');
    scheduler.failCalls((c) => c.operation === 'UpdateSchedule' && c.name === `${name}.every-5`, 1, 'ResourceNotFoundException');
    const from = scheduler.calls.length;
    expect(await run(registered)).toEqual({ batchItemFailures: [] });
    expect(writes(from).map((c) => `${c.operation} ${c.name} ${c.status}`)).toEqual([
      `CreateSchedule ${name}.every-5 409`, `UpdateSchedule ${name}.every-5 404`, `CreateSchedule ${name}.every-5 200`, `CreateSchedule ${name}.nightly 200`,
    ]);
    expect(names(name)).toEqual([`${name}.every-5`, `${name}.nightly`]);
  });

  test('a Scheduler failure for one function reports only its record; the others are synced; the retry converges', async () => {
    const good = fresh();
    const bad = fresh();
    await registerFunction({ name: bad, runtime: 'nodejs24.x', schedules: [EVERY] }, registry);
    await registerFunction({ name: good, runtime: 'nodejs24.x', schedules: [NIGHTLY] }, registry);
    await updateFunction(bad, { schedules: [NIGHTLY] }, 1, registry);
    const records = await newRecords();
    expect(records).toHaveLength(3);
    // Scheduler fails every call about `bad` (beyond the SDK's retries) until the outage ends.
    scheduler.failCalls((c) => (c.name ?? c.query.NamePrefix ?? '').startsWith(`${bad}.`), 100, 'InternalServerException');

    const result = await run(records);
    // `bad`'s first record: Lambda retries the stream from there.
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: records[0].dynamodb!.SequenceNumber }] });
    expect(names(good)).toEqual([`${good}.nightly`]);
    expect(names(bad)).toEqual([]);
    expect(logLines.map((l) => [l.level, l.message, l.function, l.error])).toEqual([
      ['ERROR', 'Function not reconciled, its record is retried', bad, 'InternalServerException'],
    ]);

    scheduler.clearFailures();
    expect(await run(records)).toEqual({ batchItemFailures: [] });
    expect(names(bad)).toEqual([`${bad}.nightly`]);
    expect(names(good)).toEqual([`${good}.nightly`]);
  });
});

test('a cold start with Scheduler settings Scheduler would refuse, or without a variable, fails naming it', () => {
  const load = (env: Record<string, string | undefined>) => {
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, env);
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
    try {
      jest.isolateModules(() => { loadHandler(shippedBundle('functions/lambda-runtime-service/sync-registry.ts')); });
    } finally {
      for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    }
  };
  expect(() => load({ [E.SCHEDULE_SETTINGS]: JSON.stringify({ maximumRetryAttempts: 500 }) })).toThrow(/SCHEDULE_SETTINGS\.maximumRetryAttempts must be a number from 0 to 185/);
  expect(() => load({ [E.SCHEDULE_SETTINGS]: '[1]' })).toThrow(/SCHEDULE_SETTINGS must be a JSON object/);
  expect(() => load({ [E.SCHEDULER_ROLE_ARN]: undefined })).toThrow(/Missing environment variable SCHEDULER_ROLE_ARN/);
  expect(() => load({})).not.toThrow();
});

async function getRaw(PK: string, SK: string): Promise<Record<string, any> | undefined> {
  return (await clients.doc.send(new GetCommand({ TableName: tableName, Key: { PK, SK }, ConsistentRead: true }))).Item;
}
