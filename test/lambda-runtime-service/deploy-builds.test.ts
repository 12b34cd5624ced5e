import { randomUUID } from 'node:crypto';
import { GetFunctionCommand, GetFunctionEventInvokeConfigCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CopyObjectCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { startBuildPipeline } from './deploy-build-pipeline';
import { runtimeTables, type RuntimeTables } from './runtime-tables';
import { getFunction } from '../../functions/lambda-runtime-service/registry-store';
import {
  awsFunctionName, DEFAULT_FUNCTION_LIMITS, LambdaRuntimeEnv as E, LIVE_ALIAS, PLATFORM_TAG_KEY,
} from '../../lib/lambda-runtime-service/contract';
import { yazlZip } from '../build-pipeline/zip-corpus';
import { loadHandler, shippedBundle } from '../harness/bundle-handler';
import {
  configureHandlerEnv, createQueue, deleteMessages, endpoints, fakeContext, receive, REGION, releaseMessages, toSqsEvent, uniqueName,
} from '../harness/local-aws';
import { startLocalLambda, type LocalLambda } from '../harness/local-lambda/server';

/**
 * The deploy queue's consumer, as shipped (the bundle), against DynamoDB Local (registry), fauxqs
 * (the deploy and canary queues, the build's S3) and the local Lambda endpoint. Each message goes
 * the way the event source mapping takes it: received from the queue, handed over as an SQS event,
 * deleted unless the handler reported it failed, so "dropped" and "retried" are the queue's state.
 */
jest.setTimeout(90_000);

const PREFIX = 'dplq';
const ROLE = 'arn:aws:iam::000000000000:role/platform-function';
const ON_SUCCESS = 'arn:aws:sqs:us-east-1:000000000000:async-results';
const ON_FAILURE = 'arn:aws:sns:us-east-1:000000000000:async-failures';
type SqsFn = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

let t: RuntimeTables;
let lambda: LocalLambda;
let client: LambdaClient;
let pipeline: Awaited<ReturnType<typeof startBuildPipeline>>;
let handler: SqsFn;
let deployQueue: string;
const deployQueueName = uniqueName('deploy-queue');
let seq = 0;

beforeAll(async () => {
  t = await runtimeTables();
  lambda = await startLocalLambda({ s3Endpoint: endpoints().fauxqs });
  client = new LambdaClient({ region: REGION, endpoint: lambda.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
  pipeline = await startBuildPipeline(t.clients);
  deployQueue = await createQueue(t.clients.sqs, deployQueueName);
  const canaryQueue = await createQueue(t.clients.sqs, uniqueName('deploy-canary'));
  configureHandlerEnv({
    [E.REGISTRY_TABLE_NAME]: t.registryTable,
    [E.FUNCTION_PREFIX]: PREFIX,
    [E.FUNCTION_LIMITS]: JSON.stringify({ ...DEFAULT_FUNCTION_LIMITS, maxReservedConcurrency: 3 }),
    [E.EXECUTION_ROLE_ARN]: ROLE,
    [E.FUNCTION_TAGS]: JSON.stringify({ 'cost-center': 'platform', [PLATFORM_TAG_KEY]: PREFIX }),
    [E.ASYNC_SUCCESS_DESTINATION_ARN]: ON_SUCCESS,
    [E.ASYNC_FAILURE_DESTINATION_ARN]: ON_FAILURE,
    [E.CANARY_QUEUE_URL]: canaryQueue,
    AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint,
  });
  jest.isolateModules(() => { handler = loadHandler<SqsFn>(shippedBundle('functions/lambda-runtime-service/deploy-builds.ts')); });
});
afterAll(async () => {
  await pipeline?.stop();
  await lambda?.close();
  client?.destroy();
  for (const c of [t?.clients.ddb, t?.clients.sqs, t?.clients.s3]) c?.destroy();
});

const fresh = () => `dq-fn-${++seq}`;
const awsName = (name: string) => awsFunctionName(PREFIX, name);
const versionsOf = (name: string) => [...(lambda.functions.get(awsName(name))?.versions.keys() ?? [])];
const source = (tag: string) => yazlZip([{ name: 'index.js', data: `exports.handler = async (event) => ({ release: '${tag}', event });\n` }]);

/**
 * Sends bodies to the deploy queue and runs one receive → handler round as the event source mapping
 * does: succeeded messages are deleted, failed ones stay (made visible again at once here, as the
 * end of their visibility timeout would).
 */
async function deliver(...bodies: string[]) {
  for (const body of bodies) await t.clients.sqs.send(new SendMessageCommand({ QueueUrl: deployQueue, MessageBody: body }));
  const messages = await receive(t.clients.sqs, deployQueue, 10);
  expect(messages).toHaveLength(bodies.length);
  const result = await handler(toSqsEvent(messages, `arn:aws:sqs:${REGION}:000000000000:${deployQueueName}`), fakeContext('deploy-builds'));
  const failed = new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
  await deleteMessages(t.clients.sqs, deployQueue, messages.filter((m) => !failed.has(m.MessageId!)));
  await releaseMessages(t.clients.sqs, deployQueue, messages.filter((m) => failed.has(m.MessageId!)));
  return { failed: messages.filter((m) => failed.has(m.MessageId!)).map((m) => m.Body!) };
}

/** Messages left on the deploy queue (visible or in flight): what SQS would deliver again. */
async function leftOnQueue(): Promise<number> {
  const { Attributes } = await t.clients.sqs.send(new GetQueueAttributesCommand({
    QueueUrl: deployQueue, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
  }));
  return Number(Attributes!.ApproximateNumberOfMessages) + Number(Attributes!.ApproximateNumberOfMessagesNotVisible);
}

async function invokeLive(name: string, payload: unknown = {}) {
  const out = await client.send(new InvokeCommand({ FunctionName: `${awsName(name)}:${LIVE_ALIAS}`, Payload: Buffer.from(JSON.stringify(payload)) }));
  expect(out.FunctionError).toBeUndefined();
  return { ...JSON.parse(Buffer.from(out.Payload!).toString('utf8')), executedVersion: out.ExecutedVersion };
}

describe('deploy-builds (shipped bundle): BuildCompleted as the rule delivers it to SQS → a live function', () => {
  test('a ZIP built by BuildPipeline\'s worker is created with tags, role, reserved concurrency and async destinations, and answers; a redelivery publishes nothing', async () => {
    const name = fresh();
    const { envelope, body } = await pipeline.buildForQueue(name, await source('r1'));
    expect(JSON.parse(body)).toMatchObject({ 'detail-type': 'BuildCompleted', 'source': envelope.source, 'detail': { payload: { functionName: name } } });

    expect((await deliver(body)).failed).toEqual([]);
    expect(await leftOnQueue()).toBe(0);
    expect(await invokeLive(name, { q: 1 })).toEqual({ release: 'r1', event: { q: 1 }, executedVersion: '1' });

    const fn = await client.send(new GetFunctionCommand({ FunctionName: awsName(name) }));
    expect(fn.Configuration).toMatchObject({ Role: ROLE, Runtime: 'nodejs24.x', Handler: 'index.handler' });
    expect(fn.Tags).toEqual({ 'cost-center': 'platform', [PLATFORM_TAG_KEY]: PREFIX });
    // The registry's default (5) capped by the construct's maxReservedConcurrency (3).
    expect(fn.Concurrency).toEqual({ ReservedConcurrentExecutions: 3 });
    expect(await client.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: awsName(name), Qualifier: LIVE_ALIAS }))).toMatchObject({
      MaximumRetryAttempts: 2, DestinationConfig: { OnSuccess: { Destination: ON_SUCCESS }, OnFailure: { Destination: ON_FAILURE } },
    });
    expect(await getFunction(name, t.registry)).toMatchObject({ currentDeployment: { buildId: envelope.payload.jobId, lambdaVersion: '1' } });

    // SQS delivers the same message again (at-least-once): acknowledged, no new version.
    const calls = lambda.calls.length;
    expect((await deliver(body)).failed).toEqual([]);
    expect(versionsOf(name)).toEqual(['1']);
    expect(lambda.calls.slice(calls).map((c) => c.operation)).toEqual(['GetAlias', 'GetFunctionEventInvokeConfig']);

    // The next build replaces it.
    const second = await pipeline.buildForQueue(name, await source('r2'));
    expect((await deliver(second.body)).failed).toEqual([]);
    expect(await invokeLive(name)).toMatchObject({ release: 'r2', executedVersion: '2' });
  });

  test('malformed bodies are acknowledged and dropped (a retry cannot fix them), with no Lambda call', async () => {
    const name = fresh();
    const { body } = await pipeline.buildForQueue(name, await source('r1'));
    const event = JSON.parse(body);
    const calls = lambda.calls.length;
    const result = await deliver(
      'not json {',
      JSON.stringify({ ...event, detail: 'a string' }),
      JSON.stringify(event.detail), // the envelope alone: no EventBridge event around it
      JSON.stringify({ ...event, detail: { ...event.detail, eventType: 'BuildFailed' } }),
      JSON.stringify({ ...event, detail: { ...event.detail, payload: { ...event.detail.payload, createdAt: 'yesterday' } } }),
      JSON.stringify({ ...event, detail: { ...event.detail, payload: { ...event.detail.payload, functionName: 'Not_A_Name' } } }),
    );
    expect(result.failed).toEqual([]);
    expect(await leftOnQueue()).toBe(0);
    expect(lambda.calls.length).toBe(calls);
    expect(await getFunction(name, t.registry)).toBeUndefined();
  });

  test('a Lambda failure fails its record alone; the message stays for a retry, and the retry deploys once the cause is gone', async () => {
    const good = fresh();
    const bad = fresh();
    const ok = await pipeline.buildForQueue(good, await source('good'));
    const broken = await pipeline.buildForQueue(bad, await source('bad'));
    // The artifact points at an object that is not there (yet): Lambda refuses CreateFunction.
    const missingKey = `missing/${randomUUID()}.zip`;
    const event = JSON.parse(broken.body);
    const realKey = event.detail.payload.artifact.key;
    event.detail.payload.artifact.key = missingKey;
    const result = await deliver(ok.body, JSON.stringify(event));
    expect(result.failed).toEqual([JSON.stringify(event)]);
    expect(await invokeLive(good)).toMatchObject({ release: 'good' });
    expect(lambda.functions.has(awsName(bad))).toBe(false);
    expect(await leftOnQueue()).toBe(1);

    // The object appears under that key; the redelivery deploys it.
    const bucket = event.detail.payload.artifact.bucket;
    await t.clients.s3.send(new CopyObjectCommand({ Bucket: bucket, Key: missingKey, CopySource: `${bucket}/${realKey}` }));
    const [message] = await receive(t.clients.sqs, deployQueue, 10);
    expect(message.Body).toBe(JSON.stringify(event));
    expect(message.Attributes?.ApproximateReceiveCount).toBe('2');
    const retried = await handler(toSqsEvent([message], `arn:aws:sqs:${REGION}:000000000000:${deployQueueName}`), fakeContext('deploy-builds'));
    expect(retried.batchItemFailures).toEqual([]);
    expect(await invokeLive(bad)).toMatchObject({ release: 'bad', executedVersion: '1' });
  });
});
