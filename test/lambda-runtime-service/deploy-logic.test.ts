import { createHash } from 'node:crypto';
import {
  GetFunctionConcurrencyCommand, GetFunctionConfigurationCommand, GetFunctionEventInvokeConfigCommand, InvokeCommand, LambdaClient, ListTagsCommand,
} from '@aws-sdk/client-lambda';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { delayedMessages, startBuildPipeline } from './deploy-build-pipeline';
import { runtimeTables, type RuntimeTables } from './runtime-tables';
import { storeBuild } from './stored-build';
import {
  deployBuild, hexToCodeSha256, promoteCanary, rollbackCanary, type DeployServices,
} from '../../functions/lambda-runtime-service/deploy-logic';
import { deleteFunction, getFunction, markPurged, registerFunction, updateFunction } from '../../functions/lambda-runtime-service/registry-store';
import {
  awsFunctionName, CONSUMED_BUILD_EVENT, LIVE_ALIAS, PLATFORM_TAG_KEY, type CanaryCheckMessage, type DeploymentPolicy,
} from '../../lib/lambda-runtime-service/contract';
import { yazlZip } from '../build-pipeline/zip-corpus';
import { createBucket, createQueue, endpoints, REGION, uniqueName } from '../harness/local-aws';
import { startLocalLambda, type LocalLambda } from '../harness/local-lambda/server';

/**
 * The deploy path against DynamoDB Local (the registry), fauxqs S3 (the build's ZIP) and the local
 * Lambda endpoint, which stores the ZIP and runs its handler: every deploy is checked by invoking
 * `{prefix}-{name}:live` and reading which build answered.
 */
jest.setTimeout(60_000);

const PREFIX = 'plat';
const ROLE = 'arn:aws:iam::000000000000:role/platform-function';
const TAGS = { 'cost-center': 'platform' };
/** The configured tags and the platform tag, whose value is the prefix (the deploy role's IAM conditions key on it). */
const FUNCTION_TAGS = { ...TAGS, [PLATFORM_TAG_KEY]: PREFIX };
const ON_SUCCESS = 'arn:aws:sqs:us-east-1:000000000000:async-results';
const ON_FAILURE = 'arn:aws:sns:us-east-1:000000000000:async-failures';
const CANARY: DeploymentPolicy = { strategy: 'canary', steps: [10, 50], stepMinutes: 5, maxErrorRatePercent: 5, minInvocations: 10 };
const sha256Hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let t: RuntimeTables;
let lambda: LocalLambda;
let client: LambdaClient;
const bucket = uniqueName('deploy-artifacts');
const canaryQueueName = uniqueName('deploy-canary');
let services: DeployServices;
let seq = 0;
let buildClock = Date.parse('2026-11-29T07:00:00.000Z');

beforeAll(async () => {
  t = await runtimeTables();
  await createBucket(t.clients.s3, bucket);
  lambda = await startLocalLambda({ s3Endpoint: endpoints().fauxqs });
  // One attempt per call: every Lambda call the deploy makes is one captured request.
  const canaryQueueUrl = await createQueue(t.clients.sqs, canaryQueueName);
  client = new LambdaClient({ region: REGION, endpoint: lambda.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
  services = {
    registry: t.registry,
    lambda: client,
    prefix: PREFIX,
    executionRoleArn: ROLE,
    tags: TAGS,
    maxReservedConcurrency: 4,
    asyncDestinations: { onSuccess: ON_SUCCESS, onFailure: ON_FAILURE },
    canaryQueue: { sqs: t.clients.sqs, queueUrl: canaryQueueUrl },
    wait: { attempts: 5, delayMs: 50 },
  };
});
afterAll(async () => {
  await lambda?.close();
  client?.destroy();
  t?.clients.ddb.destroy();
});

const fresh = () => `deploy-fn-${++seq}`;

/** A build as BuildPipeline's worker leaves it: a deployment ZIP in S3 whose handler answers with the build's id. */
async function makeBuild(functionName: string, options: { createdAt?: string } = {}) {
  buildClock += 1000;
  return storeBuild({
    s3: t.clients.s3,
    bucket,
    functionName,
    createdAt: options.createdAt ?? new Date(buildClock).toISOString(),
    handlerSource: (jobId) => `exports.handler = async (event) => ({ build: '${jobId}', echo: event, greeting: process.env.GREETING });\n`,
  });
}

const awsName = (name: string) => awsFunctionName(PREFIX, name);
async function invokeLive(name: string, payload: unknown = {}) {
  const out = await client.send(new InvokeCommand({ FunctionName: `${awsName(name)}:${LIVE_ALIAS}`, Payload: Buffer.from(JSON.stringify(payload)) }));
  expect(out.FunctionError).toBeUndefined();
  return { ...JSON.parse(Buffer.from(out.Payload!).toString('utf8')), executedVersion: out.ExecutedVersion };
}
/** The Lambda calls made about one function since `from` (an index into the captured calls), by operation. */
const callsFor = (name: string, from = 0) => lambda.calls.slice(from).filter((c) => decodeURIComponent(c.path).includes(`/functions/${awsName(name)}`)
  || decodeURIComponent(c.path).endsWith(`:function:${awsName(name)}`)
  || (c.operation === 'CreateFunction' && (c.input as { FunctionName?: string }).FunctionName === awsName(name)));
const ops = (name: string, from = 0) => callsFor(name, from).map((c) => `${c.operation} ${c.status}`);
const versionsOf = (name: string) => [...(lambda.functions.get(awsName(name))?.versions.keys() ?? [])];

describe('deployBuild (DynamoDB Local, fauxqs S3, local Lambda)', () => {
  test('an unregistered name: registered from the build, created, published, live alias created; the live alias answers', async () => {
    const name = fresh();
    const { jobId, zip, envelope } = await makeBuild(name);
    const from = lambda.calls.length;
    expect(await deployBuild(envelope, services)).toEqual({ outcome: 'deployed', name, lambdaVersion: '1', strategy: 'all-at-once' });

    expect(await invokeLive(name, { n: 1 })).toMatchObject({ build: jobId, echo: { n: 1 }, executedVersion: '1' });
    // Seven Lambda calls: the lookup that finds no function, create, publish, reserved concurrency, alias, and
    // live's async settings read (none yet) and written (Local Lambda settles at once: no polls).
    expect(ops(name, from)).toEqual([
      'GetFunction 404', 'CreateFunction 201', 'PublishVersion 201', 'PutFunctionConcurrency 200', 'CreateAlias 201',
      'GetFunctionEventInvokeConfig 404', 'PutFunctionEventInvokeConfig 200', 'Invoke 200',
    ]);

    // The artifact's hex SHA-256 is Lambda's CodeSha256 of the same ZIP, in base64.
    const config = await client.send(new GetFunctionConfigurationCommand({ FunctionName: awsName(name), Qualifier: '1' }));
    expect(config.CodeSha256).toBe(createHash('sha256').update(zip).digest('base64'));
    expect(hexToCodeSha256(sha256Hex(zip))).toBe(config.CodeSha256);
    expect(config).toMatchObject({ Role: ROLE, Runtime: 'nodejs24.x', Handler: 'index.handler', MemorySize: 128, Timeout: 3 });
    const create = callsFor(name, from).find((c) => c.operation === 'CreateFunction')!.input as Record<string, unknown>;
    expect(create).toMatchObject({
      Publish: false, Code: { S3Bucket: bucket, S3Key: envelope.payload.artifact.key }, Role: ROLE, Tags: FUNCTION_TAGS,
    });
    expect((await client.send(new ListTagsCommand({ Resource: config.FunctionArn!.replace(/:1$/, '') }))).Tags).toEqual(FUNCTION_TAGS);
    // The registry's default reserved concurrency (5), capped by the limit (4).
    expect(await client.send(new GetFunctionConcurrencyCommand({ FunctionName: awsName(name) }))).toMatchObject({ ReservedConcurrentExecutions: 4 });
    // Async settings on the alias the platform invokes (Lambda applies the invoked qualifier's), not on $LATEST.
    expect(await client.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: awsName(name), Qualifier: LIVE_ALIAS }))).toMatchObject({
      MaximumRetryAttempts: 2, DestinationConfig: { OnSuccess: { Destination: ON_SUCCESS }, OnFailure: { Destination: ON_FAILURE } },
    });

    expect(await getFunction(name, t.registry)).toMatchObject({
      runtime: 'nodejs24.x',
      latestBuild: `${envelope.payload.createdAt}#${jobId}`,
      currentDeployment: { buildId: jobId, lambdaVersion: '1', codeSha256: config.CodeSha256 },
    });
  });

  test('a newer build: code updated, one more version, the alias moves; a redelivered event publishes nothing', async () => {
    const name = fresh();
    await deployBuild((await makeBuild(name)).envelope, services);
    const second = await makeBuild(name);
    const from = lambda.calls.length;
    expect(await deployBuild(second.envelope, services)).toMatchObject({ outcome: 'deployed', lambdaVersion: '2' });
    // Concurrency and async settings unchanged: one read of the async settings, no write.
    expect(ops(name, from)).toEqual(['GetFunction 200', 'UpdateFunctionCode 200', 'PublishVersion 201', 'UpdateAlias 200', 'GetFunctionEventInvokeConfig 200']);
    expect(versionsOf(name)).toEqual(['1', '2']);
    expect(await invokeLive(name)).toMatchObject({ build: second.jobId, executedVersion: '2' });

    // The same event again: the registry says duplicate; only checks that the alias serves it and has its async settings.
    const again = lambda.calls.length;
    expect(await deployBuild(second.envelope, services)).toEqual({ outcome: 'duplicate', name });
    expect(ops(name, again)).toEqual(['GetAlias 200', 'GetFunctionEventInvokeConfig 200']);
    expect(versionsOf(name)).toEqual(['1', '2']);

    // An older build arriving late changes nothing, and calls Lambda not at all.
    const late = await makeBuild(name, { createdAt: '2026-11-29T06:00:00.000Z' });
    const lateFrom = lambda.calls.length;
    expect(await deployBuild(late.envelope, services)).toEqual({ outcome: 'stale', name });
    expect(ops(name, lateFrom)).toEqual([]);
    expect(await invokeLive(name)).toMatchObject({ build: second.jobId });
  });

  test('a registry configuration change reaches Lambda with the next build (UpdateFunctionConfiguration)', async () => {
    const name = fresh();
    await registerFunction({ name, runtime: 'nodejs24.x', environment: { GREETING: 'hej' } }, t.registry);
    const first = await makeBuild(name);
    await deployBuild(first.envelope, services);
    expect(await invokeLive(name)).toMatchObject({ build: first.jobId, greeting: 'hej' });

    await updateFunction(name, { environment: { GREETING: 'hallo' }, memoryMb: 256, reservedConcurrency: 2 }, 1, t.registry);
    const second = await makeBuild(name);
    const from = lambda.calls.length;
    await deployBuild(second.envelope, services);
    expect(ops(name, from)).toEqual([
      'GetFunction 200', 'UpdateFunctionCode 200', 'UpdateFunctionConfiguration 200', 'PublishVersion 201', 'PutFunctionConcurrency 200',
      'UpdateAlias 200', 'GetFunctionEventInvokeConfig 200',
    ]);
    expect(lambda.functions.get(awsName(name))!.reservedConcurrency).toBe(2);
    expect(await invokeLive(name)).toMatchObject({ build: second.jobId, greeting: 'hallo' });
    expect(lambda.functions.get(awsName(name))!.versions.get('2')!.config.MemorySize).toBe(256);
  });

  test('a deleted function: nothing created, nothing recorded', async () => {
    const name = fresh();
    await registerFunction({ name, runtime: 'nodejs24.x' }, t.registry);
    await deleteFunction(name, t.registry);
    const { envelope } = await makeBuild(name);
    const from = lambda.calls.length;
    expect(await deployBuild(envelope, services)).toEqual({ outcome: 'deleted', name });
    // Purged, still: the build was made before the deletion, so it never brings the name back.
    await markPurged(name, t.registry);
    expect(await deployBuild(envelope, services)).toEqual({ outcome: 'deleted', name });
    expect(ops(name, from)).toEqual([]);
    expect(lambda.functions.has(awsName(name))).toBe(false);
    expect(await getFunction(name, t.registry, { includeDeleted: true })).not.toHaveProperty('currentDeployment');
  });

  test('deleted while its first build deploys (after the registry read, before CreateFunction): the function it created is removed', async () => {
    const name = fresh();
    await registerFunction({ name, runtime: 'nodejs24.x' }, t.registry);
    const { envelope } = await makeBuild(name);
    // A real client to the same endpoint; the user's DELETE and the stream's purge (whose DeleteFunction finds
    // nothing yet) land between the deployer's registry read and its CreateFunction, then the call goes on.
    const racing = new LambdaClient({
      region: REGION, endpoint: lambda.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1,
    });
    racing.middlewareStack.add((next, context) => async (args) => {
      if (context.commandName === 'CreateFunctionCommand') {
        await deleteFunction(name, t.registry);
        await markPurged(name, t.registry);
      }
      return next(args);
    }, { step: 'initialize', name: 'deleteDuringDeploy' });
    const from = lambda.calls.length;
    try {
      expect(await deployBuild(envelope, { ...services, lambda: racing })).toEqual({ outcome: 'deleted', name });
    } finally {
      racing.destroy();
    }
    expect(ops(name, from)).toContain('CreateFunction 201');
    expect(ops(name, from).at(-1)).toBe('DeleteFunction 204');
    expect(lambda.functions.has(awsName(name))).toBe(false);
  });

  test('refused envelopes: a container build, another source, a missing artifact, a name the registry refuses', async () => {
    const name = fresh();
    const { envelope } = await makeBuild(name);
    const { artifact, ...withoutArtifact } = envelope.payload;
    const warnings: unknown[] = [];
    const logged: DeployServices = { ...services, log: { info: () => undefined, warn: (message, extra) => warnings.push({ message, ...extra }) } };
    const from = lambda.calls.length;
    const refused = async (event: unknown) => {
      const result = await deployBuild(event, logged);
      expect(result.outcome).toBe('refused');
      return (result as { reason: string }).reason;
    };
    expect(await refused({ ...envelope, payload: { ...withoutArtifact, runtime: 'container', image: { uri: 'repo:tag' } } })).toMatch(/container build/);
    expect(await refused({ ...envelope, source: 'someone.else' })).toMatch(/source/);
    expect(await refused({ ...envelope, eventType: 'BuildFailed' })).toMatch(/eventType/);
    expect(await refused({ ...envelope, payload: withoutArtifact })).toMatch(/artifact/);
    expect(await refused({ ...envelope, payload: { ...envelope.payload, artifact: { ...artifact, sha256: 'abc' } } })).toMatch(/sha256/);
    expect(await refused({ ...envelope, payload: { ...envelope.payload, functionName: 'Orders_API' } })).toMatch(/name/);
    expect(warnings).toHaveLength(6);
    expect(ops(name, from)).toEqual([]);
    expect(await getFunction(name, t.registry)).toBeUndefined();
  });

  test('an artifact replaced under its key after the build (hash mismatch) is never published', async () => {
    const name = fresh();
    const first = await makeBuild(name);
    await deployBuild(first.envelope, services);
    const second = await makeBuild(name);
    const other = await yazlZip([{ name: 'index.js', data: "exports.handler = async () => ({ build: 'tampered' });\n" }]);
    await t.clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: second.envelope.payload.artifact.key, Body: other }));
    await expect(deployBuild(second.envelope, services)).rejects.toThrow(/refusing to publish/);
    expect(versionsOf(name)).toEqual(['1']);
    expect(await invokeLive(name)).toMatchObject({ build: first.jobId });
    expect(await getFunction(name, t.registry)).toMatchObject({ currentDeployment: { buildId: first.jobId } });
  });

  test('a function whose platform tag went missing is tagged again before its code changes', async () => {
    const name = fresh();
    await deployBuild((await makeBuild(name)).envelope, services);
    delete lambda.functions.get(awsName(name))!.tags[PLATFORM_TAG_KEY];
    const from = lambda.calls.length;
    await deployBuild((await makeBuild(name)).envelope, services);
    expect(ops(name, from).slice(0, 3)).toEqual(['GetFunction 200', 'TagResource 204', 'UpdateFunctionCode 200']);
    expect(lambda.functions.get(awsName(name))!.tags).toEqual(FUNCTION_TAGS);
  });

  test('canary: the new version gets the weight, the old one keeps the rest; promote moves all; rollback returns to the previous', async () => {
    const name = fresh();
    await registerFunction({ name, runtime: 'nodejs24.x', deployment: CANARY }, t.registry);
    const first = await makeBuild(name);
    // Nothing to stay on yet: the first deployment goes all at once.
    expect(await deployBuild(first.envelope, services)).toMatchObject({ outcome: 'deployed', lambdaVersion: '1', strategy: 'all-at-once' });
    const second = await makeBuild(name);
    expect(await deployBuild(second.envelope, services)).toMatchObject({ outcome: 'deployed', lambdaVersion: '2', strategy: 'canary' });
    expect(lambda.functions.get(awsName(name))!.aliases.get(LIVE_ALIAS)).toMatchObject({
      FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { 2: 0.1 } },
    });
    expect(await getFunction(name, t.registry)).toMatchObject({ currentDeployment: { lambdaVersion: '2' }, previousDeployment: { lambdaVersion: '1' } });
    // Its first check waits on the canary queue for the step's 5 minutes (300 s: SQS delays up to 15 minutes).
    const checks = (await delayedMessages(canaryQueueName)).map((m) => ({ ...m, check: JSON.parse(m.body) as CanaryCheckMessage }))
      .filter((m) => m.check.name === name);
    expect(checks).toHaveLength(1);
    const [{ check, delaySeconds }] = checks;
    expect(check).toEqual({
      name,
      buildId: second.jobId,
      lambdaVersion: '2',
      step: 0,
      stepStartedAt: new Date(t.clock.ms).toISOString(),
      dueAt: new Date(t.clock.ms + 300_000).toISOString(),
    });
    expect(delaySeconds).toBeGreaterThan(295);
    expect(delaySeconds).toBeLessThanOrEqual(300);
    // A redelivery during the canary leaves the split alone (the alias already serves the current version).
    expect(await deployBuild(second.envelope, services)).toMatchObject({ outcome: 'duplicate' });
    expect(lambda.functions.get(awsName(name))!.aliases.get(LIVE_ALIAS)!.FunctionVersion).toBe('1');
    // ...and sends the step's check again, in case the first send was what failed (the checker acts once per step).
    expect((await delayedMessages(canaryQueueName)).filter((m) => JSON.parse(m.body).name === name)).toHaveLength(2);

    expect(await promoteCanary(name, services)).toBe('2');
    const promoted = lambda.functions.get(awsName(name))!.aliases.get(LIVE_ALIAS)!;
    expect([promoted.FunctionVersion, promoted.RoutingConfig]).toEqual(['2', undefined]);
    expect(await invokeLive(name)).toMatchObject({ build: second.jobId, executedVersion: '2' });

    const third = await makeBuild(name);
    await deployBuild(third.envelope, services);
    expect(lambda.functions.get(awsName(name))!.aliases.get(LIVE_ALIAS)).toMatchObject({
      FunctionVersion: '2', RoutingConfig: { AdditionalVersionWeights: { 3: 0.1 } },
    });
    expect(await rollbackCanary(name, services)).toBe('2');
    const rolledBack = lambda.functions.get(awsName(name))!.aliases.get(LIVE_ALIAS)!;
    expect([rolledBack.FunctionVersion, rolledBack.RoutingConfig]).toEqual(['2', undefined]);
    expect(await getFunction(name, t.registry)).toMatchObject({
      currentDeployment: { buildId: second.jobId }, previousDeployment: { buildId: third.jobId },
    });
    // The rolled-back build redelivered changes nothing (latestBuild never goes back).
    expect(await deployBuild(third.envelope, services)).toMatchObject({ outcome: 'duplicate' });
    expect(await invokeLive(name)).toMatchObject({ build: second.jobId, executedVersion: '2' });
  });

  const conflicts: number[] = [];
  test.each([1, 2, 3])('three concurrent deploys of one function, shuffled (round %i): the newest build is live', async (round) => {
    const name = fresh();
    const builds = [];
    for (let i = 0; i < 3; i++) builds.push(await makeBuild(name));
    const newest = builds[2];
    // Rotate the start order by round, so each build goes first once.
    const order = [...builds.slice(round - 1), ...builds.slice(0, round - 1)];
    const from = lambda.calls.length;
    const results = await Promise.all(order.map((b) => deployBuild(b.envelope, services)));
    expect(results.filter((r) => r.outcome === 'deployed').length).toBeGreaterThanOrEqual(1);
    // The races are real: a deploy whose revision or code was changed under it is refused by Lambda (412/409) and starts over.
    conflicts.push(callsFor(name, from).filter((c) => c.status === 412 || c.status === 409).length);
    // At most one version per build: a refused deploy never publishes another build's code.
    expect(versionsOf(name).length).toBeLessThanOrEqual(3);
    const record = await getFunction(name, t.registry);
    expect(record?.currentDeployment?.buildId).toBe(newest.jobId);
    expect(await invokeLive(name)).toMatchObject({ build: newest.jobId, executedVersion: record!.currentDeployment!.lambdaVersion });
    // Every redelivery afterwards is a no-op.
    for (const b of builds) expect(['duplicate', 'stale']).toContain((await deployBuild(b.envelope, services)).outcome);
    expect(await invokeLive(name)).toMatchObject({ build: newest.jobId });
    // Over the rounds, some deploy met another's change (three first deploys race on CreateFunction at least).
    if (round === 3) expect(conflicts.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });
});

describe('a ZIP built by BuildPipeline\'s worker (shipped bundles) is deployed and answers', () => {
  let pipeline: Awaited<ReturnType<typeof startBuildPipeline>>;
  beforeAll(async () => { pipeline = await startBuildPipeline(t.clients); });
  afterAll(() => pipeline?.stop());

  test('upload → worker → BuildCompleted on the bus → deployBuild → invoke live; a second build replaces it', async () => {
    const name = fresh();
    const source = (tag: string) => yazlZip([
      { name: 'index.js', data: `const util = require('./lib/util');\nexports.handler = async (event) => ({ release: '${tag}', answer: util.answer, event });\n` },
      { name: 'lib/util.js', data: 'exports.answer = 42;\n' },
    ]);
    const first = await pipeline.build(name, await source('r1'));
    expect(first).toMatchObject({ source: CONSUMED_BUILD_EVENT.source, eventType: CONSUMED_BUILD_EVENT.detailType, payload: { functionName: name } });
    expect(first.payload.artifact.bucket).toBe(pipeline.artifacts);
    expect(await deployBuild(first, services)).toMatchObject({ outcome: 'deployed', lambdaVersion: '1' });
    expect(await invokeLive(name, { q: 1 })).toEqual({ release: 'r1', answer: 42, event: { q: 1 }, executedVersion: '1' });
    // The worker's artifact sha256 (hex) is the digest of the ZIP Lambda stored.
    const stored = lambda.functions.get(awsName(name))!.versions.get('1')!.config.CodeSha256;
    expect(hexToCodeSha256(first.payload.artifact.sha256)).toBe(stored);

    const second = await pipeline.build(name, await source('r2'));
    expect(await deployBuild(second, services)).toMatchObject({ outcome: 'deployed', lambdaVersion: '2' });
    expect(await invokeLive(name)).toMatchObject({ release: 'r2', executedVersion: '2' });
    expect(await deployBuild(first, services)).toEqual({ outcome: 'stale', name });
    expect(versionsOf(name)).toEqual(['1', '2']);
  });
});
