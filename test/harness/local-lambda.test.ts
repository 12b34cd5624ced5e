import { createHash } from 'node:crypto';
import {
  CreateAliasCommand, CreateFunctionCommand, GetFunctionCommand, InvokeCommand, InvokeCommandOutput, LambdaClient,
  PublishVersionCommand, PutFunctionConcurrencyCommand, PutFunctionEventInvokeConfigCommand, UpdateAliasCommand,
  UpdateFunctionCodeCommand, UpdateFunctionConfigurationCommand, ListFunctionsCommand, TagResourceCommand, ListTagsCommand,
  DeleteFunctionCommand,
} from '@aws-sdk/client-lambda';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { createBucket, createQueue, endpoints, localClients, receiveAtLeast, REGION, uniqueName } from './local-aws';
import { LocalLambda, startLocalLambda } from './local-lambda/server';
import { craftZip, yazlZip } from '../build-pipeline/zip-corpus';

/**
 * The local Lambda endpoint, driven by the real @aws-sdk/client-lambda over HTTP (so the wire
 * format is the SDK's, not ours), with code uploaded to fauxqs S3 and run in child processes.
 */
jest.setTimeout(60_000);

const ROLE = 'arn:aws:iam::000000000000:role/platform-function';
const clients = localClients();
const bucket = uniqueName('lambda-code');
let lambda: LocalLambda;
let client: LambdaClient;
const forwarded: unknown[] = [];
let dlqUrl: string;

// Deterministic "random" for alias routing: mulberry32, a tiny seeded generator.
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    /* eslint-disable no-bitwise -- mulberry32 is defined on 32-bit integer operations */
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    /* eslint-enable no-bitwise */
  };
}

async function upload(key: string, files: Record<string, string>): Promise<Buffer> {
  const zip = await yazlZip(Object.entries(files).map(([name, data]) => ({ name, data })));
  await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: zip }));
  return zip;
}

/** A CommonJS handler answering with its release tag, so a test can tell which code ran. */
const release = (tag: string) => ({
  'index.js': `exports.handler = async (event, context) => ({
    release: '${tag}', event, version: process.env.AWS_LAMBDA_FUNCTION_VERSION, greeting: process.env.GREETING,
    requestId: context.awsRequestId, functionName: context.functionName, remaining: context.getRemainingTimeInMillis(),
  });`,
});

async function create(name: string, key: string, extra: Record<string, unknown> = {}) {
  return client.send(new CreateFunctionCommand({
    FunctionName: name,
    Runtime: 'nodejs24.x',
    Role: ROLE,
    Handler: 'index.handler',
    Code: { S3Bucket: bucket, S3Key: key },
    ...extra,
  }));
}

const decode = (out: InvokeCommandOutput) => JSON.parse(Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8') || 'null');
const invoke = (FunctionName: string, payload: unknown = {}, extra: Record<string, unknown> = {}) =>
  client.send(new InvokeCommand({ FunctionName, Payload: Buffer.from(JSON.stringify(payload)), ...extra }));

beforeAll(async () => {
  await createBucket(clients.s3, bucket);
  dlqUrl = await createQueue(clients.sqs, uniqueName('platform-dlq'));
  lambda = await startLocalLambda({
    s3Endpoint: endpoints().fauxqs,
    random: seeded(42),
    // The user code's own SDK calls go to the local engines, as a handler's do through configureHandlerEnv.
    environment: { AWS_ENDPOINT_URL_S3: endpoints().fauxqs },
    // Where the platform's on-failure destination would send it: the test forwards to its DLQ.
    onAsyncFailure: async (failure) => {
      forwarded.push(failure);
      await clients.sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: JSON.stringify(failure.destinationRecord) }));
    },
  });
  // One attempt per call: the SDK would otherwise retry 429s and 5xx and hide them from the assertions.
  client = new LambdaClient({ region: REGION, endpoint: lambda.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
});

afterAll(async () => {
  await lambda?.close();
});

describe('deploy and invoke', () => {
  test('CreateFunction stores the ZIP from S3 and Invoke runs its handler with environment and context', async () => {
    const zip = await upload('hello/v1.zip', release('v1'));
    const created = await create('hello', 'hello/v1.zip', { Environment: { Variables: { GREETING: 'hej' } }, Timeout: 5 });
    expect(created).toMatchObject({
      FunctionName: 'hello',
      Version: '$LATEST',
      State: 'Active',
      CodeSize: zip.length,
      CodeSha256: createHash('sha256').update(zip).digest('base64'),
    });

    const out = await invoke('hello', { n: 1 }, { LogType: 'Tail' });
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBeUndefined();
    expect(out.ExecutedVersion).toBe('$LATEST');
    const body = decode(out);
    expect(body).toMatchObject({ release: 'v1', event: { n: 1 }, version: '$LATEST', greeting: 'hej', functionName: 'hello' });
    expect(body.remaining).toBeGreaterThan(4_000);
    expect(body.remaining).toBeLessThanOrEqual(5_000);
    expect(Buffer.from(out.LogResult!, 'base64').toString('utf8')).toMatch(/^START RequestId: \S+ Version: \$LATEST[\s\S]*REPORT RequestId/);

    // The second call reuses the warm child.
    await invoke('hello', { n: 2 });
    const runs = lambda.invocations.filter((i) => i.functionName === 'hello');
    expect(runs.map((r) => r.coldStart)).toEqual([true, false]);

    // A configuration change starts new sandboxes with the new environment; the ARN names the function too.
    await client.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'hello', Environment: { Variables: { GREETING: 'hallo' } } }));
    expect(decode(await invoke(created.FunctionArn!)).greeting).toBe('hallo');
  });

  test('an SDK client configured only by AWS_ENDPOINT_URL_LAMBDA reaches the endpoint (as a handler would)', async () => {
    const saved = process.env.AWS_ENDPOINT_URL_LAMBDA;
    process.env.AWS_ENDPOINT_URL_LAMBDA = lambda.endpoint;
    try {
      const fromEnv = new LambdaClient({ region: REGION, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
      const dry = await fromEnv.send(new InvokeCommand({ FunctionName: 'hello', InvocationType: 'DryRun' }));
      expect(dry.StatusCode).toBe(204);
      fromEnv.destroy();
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_LAMBDA;
      else process.env.AWS_ENDPOINT_URL_LAMBDA = saved;
    }
  });

  test('UpdateFunctionCode changes $LATEST only; published versions keep their code', async () => {
    await upload('deploy/v1.zip', release('v1'));
    const v1 = await create('deploy', 'deploy/v1.zip', { Publish: true });
    expect(v1.Version).toBe('1');

    expect(decode(await invoke('deploy')).release).toBe('v1'); // a warm $LATEST sandbox of the old code

    const zip2 = await upload('deploy/v2.zip', release('v2'));
    const latest = await client.send(new UpdateFunctionCodeCommand({ FunctionName: 'deploy', S3Bucket: bucket, S3Key: 'deploy/v2.zip' }));
    expect(latest.CodeSha256).toBe(createHash('sha256').update(zip2).digest('base64'));

    expect(decode(await invoke('deploy')).release).toBe('v2');
    const pinned = await invoke('deploy', {}, { Qualifier: '1' });
    expect([decode(pinned).release, pinned.ExecutedVersion]).toEqual(['v1', '1']);

    // A stale revision or hash is refused, so a deploy never publishes code it did not upload.
    await expect(client.send(new UpdateFunctionCodeCommand({ FunctionName: 'deploy', S3Bucket: bucket, S3Key: 'deploy/v1.zip', RevisionId: v1.RevisionId })))
      .rejects.toMatchObject({ name: 'PreconditionFailedException', $metadata: { httpStatusCode: 412 } });
    await expect(client.send(new PublishVersionCommand({ FunctionName: 'deploy', CodeSha256: v1.CodeSha256 })))
      .rejects.toMatchObject({ name: 'InvalidParameterValueException' });

    const v2 = await client.send(new PublishVersionCommand({ FunctionName: 'deploy', CodeSha256: latest.CodeSha256 }));
    expect(v2.Version).toBe('2');
    // Nothing changed since version 2: Lambda hands back the same version rather than a new one.
    expect((await client.send(new PublishVersionCommand({ FunctionName: 'deploy' }))).Version).toBe('2');
  });

  test('an alias routes to its version, and routing weights split the traffic by weight', async () => {
    await upload('canary/v1.zip', release('v1'));
    await create('canary', 'canary/v1.zip', { Publish: true });
    await upload('canary/v2.zip', release('v2'));
    await client.send(new UpdateFunctionCodeCommand({ FunctionName: 'canary', S3Bucket: bucket, S3Key: 'canary/v2.zip', Publish: true }));

    await client.send(new CreateAliasCommand({ FunctionName: 'canary', Name: 'live', FunctionVersion: '1' }));
    const viaAlias = await invoke('canary', {}, { Qualifier: 'live' });
    expect([decode(viaAlias).release, viaAlias.ExecutedVersion]).toEqual(['v1', '1']);
    await expect(client.send(new CreateAliasCommand({ FunctionName: 'canary', Name: 'live', FunctionVersion: '1' })))
      .rejects.toMatchObject({ name: 'ResourceConflictException', $metadata: { httpStatusCode: 409 } });

    await client.send(new UpdateAliasCommand({ FunctionName: 'canary', Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { 2: 0.25 } } }));
    const executed: string[] = [];
    for (let i = 0; i < 80; i++) executed.push((await invoke('canary:live')).ExecutedVersion!);
    const share = executed.filter((v) => v === '2').length / executed.length;
    expect(share).toBeGreaterThan(0.1);
    expect(share).toBeLessThan(0.4);

    // All at once: the alias moves, the weight is dropped.
    await client.send(new UpdateAliasCommand({ FunctionName: 'canary', Name: 'live', FunctionVersion: '2', RoutingConfig: { AdditionalVersionWeights: {} } }));
    expect((await invoke('canary', {}, { Qualifier: 'live' })).ExecutedVersion).toBe('2');
  });

  test('a handler using the runtime-provided SDK v3 reaches the local engines through the environment option', async () => {
    await upload('sdk-user/v1.zip', {
      'index.js': `const { S3Client, PutObjectCommand } = require('@aws-sdk/client-s3');
        const s3 = new S3Client({ forcePathStyle: true });
        exports.handler = async (e) => { await s3.send(new PutObjectCommand({ Bucket: e.bucket, Key: e.key, Body: 'from lambda' })); return 'stored'; };`,
    });
    await create('sdk-user', 'sdk-user/v1.zip', { Timeout: 20 });
    const out = await invoke('sdk-user', { bucket, key: 'written-by-lambda.txt' });
    expect([out.FunctionError, decode(out)]).toEqual([undefined, 'stored']);
    const object = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'written-by-lambda.txt' }));
    expect(await object.Body!.transformToString()).toBe('from lambda');

    // Only the SDK is provided: any other dependency must be in the ZIP, as in AWS.
    await upload('missing-dep/v1.zip', { 'index.js': "const yazl = require('yazl'); exports.handler = async () => typeof yazl;" });
    await create('missing-dep', 'missing-dep/v1.zip');
    expect(decode(await invoke('missing-dep'))).toMatchObject({ errorType: 'Runtime.ImportModuleError', errorMessage: expect.stringContaining("Cannot find module 'yazl'") });
  });

  test('ListFunctions pages by marker; tags set at create and by TagResource are listed', async () => {
    await upload('tagged/v1.zip', release('v1'));
    const { FunctionArn } = await create('tagged', 'tagged/v1.zip', { Tags: { platform: 'runtime' } });
    await client.send(new TagResourceCommand({ Resource: FunctionArn, Tags: { owner: 'team-a' } }));
    expect((await client.send(new ListTagsCommand({ Resource: FunctionArn }))).Tags).toEqual({ platform: 'runtime', owner: 'team-a' });

    const names: string[] = [];
    let Marker: string | undefined;
    do {
      const page = await client.send(new ListFunctionsCommand({ Marker, MaxItems: 2 }));
      expect(page.Functions!.length).toBeLessThanOrEqual(2);
      names.push(...page.Functions!.map((f) => f.FunctionName!));
      Marker = page.NextMarker;
    } while (Marker);
    expect(names).toEqual([...lambda.functions.keys()].sort());
  });

  test('an ESM handler in a subfolder, uploaded inline as ZipFile, loads as the Node.js runtime loads it', async () => {
    const zip = await yazlZip([{ name: 'src/app.mjs', data: 'export const handler = async (event) => ({ esm: true, echo: event.x });' }]);
    const created = await create('esm', 'unused', { Handler: 'src/app.handler', Code: { ZipFile: zip } });
    expect(created.CodeSha256).toBe(createHash('sha256').update(zip).digest('base64'));
    expect(decode(await invoke('esm', { x: 7 }))).toEqual({ esm: true, echo: 7 });
  });
});

describe('failures', () => {
  test('a thrown error answers X-Amz-Function-Error: Unhandled with the runtime error document', async () => {
    await upload('thrower/v1.zip', { 'index.js': "exports.handler = async () => { const e = new TypeError('no such product'); throw e; };" });
    await create('thrower', 'thrower/v1.zip');
    const out = await invoke('thrower');
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBe('Unhandled');
    const body = decode(out);
    expect(body).toMatchObject({ errorType: 'TypeError', errorMessage: 'no such product' });
    expect(body.trace[0]).toBe('TypeError: no such product');
  });

  test('init failures and crashes answer the runtime errors Lambda gives, and the next call gets a fresh sandbox', async () => {
    await upload('broken/v1.zip', {
      'index.js': "exports.handler = async (e) => { if (e.exit) process.exit(3); return 'alive'; };",
    });
    await create('no-handler', 'broken/v1.zip', { Handler: 'index.missing' });
    const missing = await invoke('no-handler');
    expect(missing.FunctionError).toBe('Unhandled');
    expect(decode(missing)).toMatchObject({ errorType: 'Runtime.HandlerNotFound', errorMessage: 'index.missing is undefined or not exported' });

    await create('broken', 'broken/v1.zip');
    expect(decode(await invoke('broken', { exit: true }))).toMatchObject({ errorType: 'Runtime.ExitError', errorMessage: expect.stringContaining('exit status 3') });
    expect(decode(await invoke('broken'))).toBe('alive');
  });

  test('Timeout is enforced: the sandbox is killed and the next call starts a fresh one', async () => {
    await upload('slow/v1.zip', { 'index.js': 'exports.handler = async (e) => { await new Promise((r) => setTimeout(r, e.ms)); return "done"; };' });
    await create('slow', 'slow/v1.zip', { Timeout: 1 });
    const started = Date.now();
    const out = await invoke('slow', { ms: 30_000 });
    expect(Date.now() - started).toBeLessThan(15_000); // cut at 1 s after a cold start that may be slow on a loaded machine
    expect(out.FunctionError).toBe('Unhandled');
    expect(decode(out)).toMatchObject({ errorType: 'Sandbox.Timedout', errorMessage: expect.stringContaining('Task timed out after 1.00 seconds') });
    expect(decode(await invoke('slow', { ms: 10 }))).toBe('done');
  });

  test('reserved concurrency is enforced: calls beyond it get 429 with the reason', async () => {
    await upload('narrow/v1.zip', { 'index.js': 'exports.handler = async () => { await new Promise((r) => setTimeout(r, 1500)); return "ok"; };' });
    await create('narrow', 'narrow/v1.zip', { Timeout: 10 });
    await client.send(new PutFunctionConcurrencyCommand({ FunctionName: 'narrow', ReservedConcurrentExecutions: 2 }));
    expect((await client.send(new GetFunctionCommand({ FunctionName: 'narrow' }))).Concurrency).toEqual({ ReservedConcurrentExecutions: 2 });

    const results = await Promise.allSettled([1, 2, 3, 4].map(() => invoke('narrow')));
    const ok = results.filter((r) => r.status === 'fulfilled');
    const throttled = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(2);
    expect(throttled).toHaveLength(2);
    for (const r of throttled) {
      expect(r.reason).toMatchObject({
        name: 'TooManyRequestsException', Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded', $metadata: { httpStatusCode: 429 },
      });
    }
  });

  test('Event answers 202; a failing event lands in asyncFailures and is forwarded to the DLQ', async () => {
    await upload('events/v1.zip', { 'index.js': "exports.handler = async (e) => { if (e.fail) throw new Error('cannot process ' + e.id); return 'ok'; };" });
    await create('events', 'events/v1.zip');
    const good = await invoke('events', { id: 'a' }, { InvocationType: 'Event' });
    const bad = await invoke('events', { id: 'b', fail: true }, { InvocationType: 'Event' });
    expect([good.StatusCode, bad.StatusCode]).toEqual([202, 202]);
    await lambda.drain();

    const failures = lambda.asyncFailures.filter((f) => f.functionName === 'events');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ payload: { id: 'b', fail: true }, error: { errorType: 'Error', errorMessage: 'cannot process b' }, executedVersion: '$LATEST' });
    expect(lambda.invocations.filter((i) => i.functionName === 'events' && i.invocationType === 'Event')).toHaveLength(2);
    expect(forwarded).toContain(failures[0]);
    const [message] = await receiveAtLeast(clients.sqs, dlqUrl, 1);
    expect(JSON.parse(message.Body!)).toMatchObject({
      requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 1 },
      requestPayload: { id: 'b', fail: true },
      responseContext: { functionError: 'Unhandled' },
    });
  });

  test('a throttled Event waits for a slot; deleting its function drops it', async () => {
    await upload('held/v1.zip', { 'index.js': 'exports.handler = async () => "ran";' });
    await create('held', 'held/v1.zip');
    await client.send(new PutFunctionConcurrencyCommand({ FunctionName: 'held', ReservedConcurrentExecutions: 0 }));
    await expect(invoke('held')).rejects.toMatchObject({ name: 'TooManyRequestsException' });
    expect((await invoke('held', {}, { InvocationType: 'Event' })).StatusCode).toBe(202);
    await new Promise((r) => setTimeout(r, 300));
    await client.send(new DeleteFunctionCommand({ FunctionName: 'held' }));
    await lambda.drain();
    expect(lambda.invocations.filter((i) => i.functionName === 'held')).toHaveLength(0);
    expect(lambda.asyncFailures.filter((f) => f.functionName === 'held')).toHaveLength(0);
  });

  test('PutFunctionEventInvokeConfig: retries, then the failure record is delivered to the OnFailure SQS queue', async () => {
    const queueUrl = await createQueue(clients.sqs, uniqueName('on-failure'));
    const { Attributes } = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
    await upload('retried/v1.zip', { 'index.js': "let calls = 0; exports.handler = async () => { calls++; throw new Error('attempt ' + calls); };" });
    await create('retried', 'retried/v1.zip');
    await client.send(new PutFunctionEventInvokeConfigCommand({
      FunctionName: 'retried', MaximumRetryAttempts: 2, DestinationConfig: { OnFailure: { Destination: Attributes!.QueueArn } },
    }));

    await invoke('retried', { id: 'r' }, { InvocationType: 'Event' });
    await lambda.drain();
    const failure = lambda.asyncFailures.find((f) => f.functionName === 'retried');
    expect(failure).toMatchObject({ attempts: 3, error: { errorMessage: 'attempt 3' }, destination: Attributes!.QueueArn });
    const [message] = await receiveAtLeast(clients.sqs, queueUrl, 1);
    expect(JSON.parse(message.Body!)).toMatchObject({
      requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 3, requestId: failure!.requestId },
      requestPayload: { id: 'r' },
    });
  });

  test('a missing function or qualifier is 404 ResourceNotFoundException, on the wire as AWS sends it', async () => {
    await expect(invoke('no-such-function')).rejects.toMatchObject({ name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } });
    await expect(invoke('hello', {}, { Qualifier: '9' })).rejects.toMatchObject({ name: 'ResourceNotFoundException' });

    const raw = await fetch(`${lambda.endpoint}/2015-03-31/functions/no-such-function/invocations`, { method: 'POST', body: '{}' });
    expect(raw.status).toBe(404);
    expect(raw.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException');
    expect(await raw.json()).toMatchObject({ Type: 'User', message: expect.stringContaining('Function not found: arn:aws:lambda:us-east-1:000000000000:function:no-such-function') });
    // Every request is captured with the status it got, failed ones included.
    expect(lambda.calls.at(-1)).toMatchObject({ operation: 'Invoke', path: '/2015-03-31/functions/no-such-function/invocations', status: 404 });
    expect(lambda.calls.filter((c) => c.operation === 'CreateFunction' && c.status === 201).length).toBeGreaterThan(5);
  });

  test('close() kills every sandbox, warm or busy', async () => {
    const own = await startLocalLambda({ s3Endpoint: endpoints().fauxqs });
    const ownClient = new LambdaClient({ region: REGION, endpoint: own.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
    await upload('closing/v1.zip', { 'index.js': 'exports.handler = async (e) => { await new Promise((r) => setTimeout(r, e.ms)); return "ok"; };' });
    await ownClient.send(new CreateFunctionCommand({
      FunctionName: 'closing', Runtime: 'nodejs24.x', Role: ROLE, Handler: 'index.handler', Timeout: 60, Code: { S3Bucket: bucket, S3Key: 'closing/v1.zip' },
    }));
    await ownClient.send(new InvokeCommand({ FunctionName: 'closing', Payload: Buffer.from('{"ms":1}') }));
    const busy = ownClient.send(new InvokeCommand({ FunctionName: 'closing', Payload: Buffer.from('{"ms":30000}') })).catch((e) => e);
    await new Promise((r) => setTimeout(r, 300));
    expect(own.liveChildren()).toBe(1);
    await own.close();
    expect(own.liveChildren()).toBe(0);
    await busy;
    ownClient.destroy();
  });

  test('other runtimes are stored but not run; unsafe ZIPs are refused', async () => {
    await upload('py/v1.zip', { 'app.py': 'def handler(event, context):\n    return event\n' });
    await create('py', 'py/v1.zip', { Runtime: 'python3.13', Handler: 'app.handler' });
    await expect(invoke('py')).rejects.toMatchObject({ name: 'InvalidRuntimeException', message: expect.stringContaining('nodejs runtimes only') });

    const evil = craftZip([{ name: '../escape.js', data: Buffer.from('exports.handler = async () => 1;') }]);
    await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'evil.zip', Body: evil }));
    await expect(create('evil', 'evil.zip')).rejects.toMatchObject({ name: 'InvalidParameterValueException', message: expect.stringMatching(/relative path|Unsafe path/) });
    expect(lambda.functions.has('evil')).toBe(false);
    await expect(create('missing-code', 'no/such/key.zip')).rejects.toMatchObject({ name: 'InvalidParameterValueException', message: expect.stringContaining('NoSuchKey') });
  });
});
