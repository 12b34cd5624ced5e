import { CreateAliasCommand, CreateFunctionCommand, LambdaClient, PublishVersionCommand } from '@aws-sdk/client-lambda';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  ConflictException, CreateScheduleCommand, CreateScheduleGroupCommand, DeleteScheduleCommand, GetScheduleCommand,
  paginateListSchedules, ResourceNotFoundException, SchedulerClient, UpdateScheduleCommand, ValidationException,
  type CreateScheduleCommandInput,
} from '@aws-sdk/client-scheduler';
import { createBucket, endpoints, localClients, REGION, uniqueName } from './local-aws';
import { startLocalLambda, type LocalLambda } from './local-lambda/server';
import { startLocalScheduler, type LocalScheduler } from './local-scheduler';
import { yazlZip } from '../build-pipeline/zip-corpus';

/**
 * The local Scheduler endpoint driven by the real @aws-sdk/client-scheduler over HTTP (so the
 * wire format is the SDK's), and `fire()` reaching a function on the local Lambda endpoint.
 */
jest.setTimeout(60_000);

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const ROLE = 'arn:aws:iam::000000000000:role/scheduler';
const DLQ = 'arn:aws:sqs:us-east-1:000000000000:schedule-dlq';
const clients = localClients();
let lambda: LocalLambda;
let lambdaClient: LambdaClient;
let scheduler: LocalScheduler;
let client: SchedulerClient;

beforeAll(async () => {
  lambda = await startLocalLambda({ s3Endpoint: endpoints().fauxqs });
  lambdaClient = new LambdaClient({ region: REGION, endpoint: lambda.endpoint, credentials, maxAttempts: 1 });
  scheduler = await startLocalScheduler({ lambda: lambdaClient, pageSize: 2 });
  // One attempt per call: the SDK would otherwise retry 5xx and hide injected failures.
  client = new SchedulerClient({ region: REGION, endpoint: scheduler.endpoint, credentials, maxAttempts: 1 });
});
afterAll(async () => {
  await scheduler?.stop();
  await lambda?.close();
  client?.destroy();
  lambdaClient?.destroy();
  clients.s3.destroy();
});

const schedule = (Name: string, extra: Partial<CreateScheduleCommandInput> = {}): CreateScheduleCommandInput => ({
  Name,
  GroupName: 'plat',
  ScheduleExpression: 'rate(5 minutes)',
  ScheduleExpressionTimezone: 'Europe/Berlin',
  FlexibleTimeWindow: { Mode: 'OFF' },
  Target: {
    Arn: 'arn:aws:lambda:us-east-1:000000000000:function:plat-orders:live',
    RoleArn: ROLE,
    Input: '{"n":1}',
    DeadLetterConfig: { Arn: DLQ },
    RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
  },
  State: 'DISABLED',
  ActionAfterCompletion: 'NONE',
  ...extra,
});

async function listAll(input: { GroupName?: string; NamePrefix?: string }) {
  const names: string[] = [];
  for await (const page of paginateListSchedules({ client }, input)) names.push(...(page.Schedules ?? []).map((s) => s.Name!));
  return names;
}

test('create, get, update (a full replace), list by prefix across pages, delete; errors as Scheduler sends them', async () => {
  // A group must exist before a schedule can be put in it.
  await expect(client.send(new CreateScheduleCommand(schedule('orders.nightly')))).rejects.toBeInstanceOf(ResourceNotFoundException);
  await client.send(new CreateScheduleGroupCommand({ Name: 'plat' }));

  const { ScheduleArn } = await client.send(new CreateScheduleCommand(schedule('orders.nightly')));
  expect(ScheduleArn).toBe('arn:aws:scheduler:us-east-1:000000000000:schedule/plat/orders.nightly');
  const got = await client.send(new GetScheduleCommand({ Name: 'orders.nightly', GroupName: 'plat' }));
  expect(got).toMatchObject({
    Name: 'orders.nightly',
    GroupName: 'plat',
    ScheduleExpression: 'rate(5 minutes)',
    ScheduleExpressionTimezone: 'Europe/Berlin',
    State: 'DISABLED',
    ActionAfterCompletion: 'NONE',
    FlexibleTimeWindow: { Mode: 'OFF' },
    Target: {
      Arn: 'arn:aws:lambda:us-east-1:000000000000:function:plat-orders:live',
      RoleArn: ROLE,
      Input: '{"n":1}',
      DeadLetterConfig: { Arn: DLQ },
      RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
    },
  });
  expect(got.CreationDate).toBeInstanceOf(Date); // epoch seconds on the wire, parsed by the SDK

  // Create of an existing schedule: 409; its error class is the SDK's.
  const conflict = client.send(new CreateScheduleCommand(schedule('orders.nightly')));
  await expect(conflict).rejects.toBeInstanceOf(ConflictException);
  await expect(conflict).rejects.toMatchObject({ message: 'Schedule orders.nightly already exists.', $metadata: { httpStatusCode: 409 } });

  // Update replaces everything: what it leaves out is gone (State defaults to ENABLED, Input absent).
  await client.send(new UpdateScheduleCommand({
    ...schedule('orders.nightly'), State: undefined, ScheduleExpression: 'cron(0 9 ? * MON-FRI *)', Target: { Arn: got.Target!.Arn!, RoleArn: ROLE },
  }));
  const updated = scheduler.get('plat', 'orders.nightly')!;
  expect(updated).toMatchObject({ State: 'ENABLED', ScheduleExpression: 'cron(0 9 ? * MON-FRI *)', Target: { Arn: got.Target!.Arn, RoleArn: ROLE } });
  expect(updated.Target).not.toHaveProperty('Input');
  expect(updated.Target).not.toHaveProperty('DeadLetterConfig');
  await expect(client.send(new UpdateScheduleCommand(schedule('orders.missing')))).rejects.toBeInstanceOf(ResourceNotFoundException);

  // Validation: 400 with Scheduler's error type.
  await expect(client.send(new CreateScheduleCommand(schedule('orders.bad', { ScheduleExpression: 'every 5 minutes' })))).rejects.toBeInstanceOf(ValidationException);
  await expect(client.send(new CreateScheduleCommand(schedule('orders.bad', { ScheduleExpressionTimezone: 'Mars/Olympus' })))).rejects.toBeInstanceOf(ValidationException);
  await expect(client.send(new CreateScheduleCommand(schedule('orders.bad', { Target: { Arn: 'x', RoleArn: 'not-a-role' } })))).rejects.toBeInstanceOf(ValidationException);

  // List pages (pageSize 2) by NextToken, filtered by group and name prefix, sorted by name.
  for (const name of ['orders.a', 'orders.b', 'orders.c', 'ordersx.a']) await client.send(new CreateScheduleCommand(schedule(name)));
  await client.send(new CreateScheduleCommand(schedule('orders.default', { GroupName: undefined })));
  expect(await listAll({ GroupName: 'plat', NamePrefix: 'orders.' })).toEqual(['orders.a', 'orders.b', 'orders.c', 'orders.nightly']);
  expect(await listAll({ GroupName: 'default' })).toEqual(['orders.default']);
  const listCalls = scheduler.calls.filter((c) => c.operation === 'ListSchedules' && c.query.NamePrefix === 'orders.');
  expect(listCalls.map((c) => [c.query.ScheduleGroup, Boolean(c.query.NextToken)])).toEqual([['plat', false], ['plat', true]]);

  // Delete: gone; a second delete is 404.
  await client.send(new DeleteScheduleCommand({ Name: 'orders.a', GroupName: 'plat' }));
  expect(scheduler.get('plat', 'orders.a')).toBeUndefined();
  await expect(client.send(new DeleteScheduleCommand({ Name: 'orders.a', GroupName: 'plat' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  await expect(client.send(new GetScheduleCommand({ Name: 'orders.a', GroupName: 'plat' }))).rejects.toBeInstanceOf(ResourceNotFoundException);

  // Every call is captured with its operation, decoded name, status and error type.
  const deletes = scheduler.calls.filter((c) => c.operation === 'DeleteSchedule');
  expect(deletes.map((c) => [c.name, c.query.groupName, c.status, c.errorType])).toEqual([
    ['orders.a', 'plat', 200, undefined], ['orders.a', 'plat', 404, 'ResourceNotFoundException'],
  ]);

  // An injected failure changes nothing and answers with the asked error.
  scheduler.failCalls((c) => c.operation === 'DeleteSchedule' && c.name === 'orders.b', 1, 'ThrottlingException');
  await expect(client.send(new DeleteScheduleCommand({ Name: 'orders.b', GroupName: 'plat' }))).rejects.toMatchObject({ name: 'ThrottlingException' });
  expect(scheduler.get('plat', 'orders.b')).toBeDefined();
  await client.send(new DeleteScheduleCommand({ Name: 'orders.b', GroupName: 'plat' }));
  expect(scheduler.get('plat', 'orders.b')).toBeUndefined();
});

test('fire(): an Event Invoke of the target ARN (a live alias on the local Lambda endpoint) with the Input; a disabled schedule does not run', async () => {
  const bucket = uniqueName('scheduler-code');
  await createBucket(clients.s3, bucket);
  const zip = await yazlZip([{ name: 'index.js', data: 'exports.handler = async (event) => ({ got: event });\n' }]);
  await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'fn.zip', Body: zip }));
  await lambdaClient.send(new CreateFunctionCommand({
    FunctionName: 'plat-ticker', Runtime: 'nodejs24.x', Role: 'arn:aws:iam::000000000000:role/fn', Handler: 'index.handler', Code: { S3Bucket: bucket, S3Key: 'fn.zip' },
  }));
  const { Version } = await lambdaClient.send(new PublishVersionCommand({ FunctionName: 'plat-ticker' }));
  await lambdaClient.send(new CreateAliasCommand({ FunctionName: 'plat-ticker', Name: 'live', FunctionVersion: Version }));
  const target = (State: 'ENABLED' | 'DISABLED') => schedule('ticker.every', {
    GroupName: 'default',
    State,
    Target: { Arn: 'arn:aws:lambda:us-east-1:000000000000:function:plat-ticker:live', RoleArn: ROLE, Input: '{"tick":42}' },
  });

  await client.send(new CreateScheduleCommand(target('DISABLED')));
  await expect(scheduler.fire('default', 'ticker.every')).rejects.toThrow(/DISABLED/);
  await client.send(new UpdateScheduleCommand(target('ENABLED')));

  const firing = await scheduler.fire('default', 'ticker.every');
  expect(firing.output.StatusCode).toBe(202);
  await lambda.drain();
  const run = lambda.invocations.filter((i) => i.functionName === 'plat-ticker');
  expect(run).toHaveLength(1);
  expect(run[0]).toMatchObject({ invocationType: 'Event', qualifier: 'live', executedVersion: '1' });
  const invoke = lambda.calls.find((c) => c.operation === 'Invoke')!;
  expect(invoke.input).toBe('{"tick":42}');
  expect(invoke.headers['x-amz-invocation-type']).toBe('Event');
  expect(scheduler.firings.map((f) => [f.name, f.input])).toEqual([['ticker.every', '{"tick":42}']]);
});
