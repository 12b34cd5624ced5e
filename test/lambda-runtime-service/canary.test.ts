import { randomUUID } from 'node:crypto';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { delayedMessages } from './deploy-build-pipeline';
import { runtimeTables, type RuntimeTables } from './runtime-tables';
import { ruleEvent, storeBuild } from './stored-build';
import { recordInvocation } from '../../functions/lambda-runtime-service/invocation-audit';
import { getFunction, registerFunction, rollbackDeployment } from '../../functions/lambda-runtime-service/registry-store';
import {
  awsFunctionName, DEFAULT_FUNCTION_LIMITS, LAMBDA_RUNTIME_METRICS_NAMESPACE, LambdaRuntimeEnv as E, LambdaRuntimeMetrics,
  LIVE_ALIAS, PLATFORM_TAG_KEY, type CanaryCheckMessage, type DeploymentPolicy, type InvocationStatusValue,
} from '../../lib/lambda-runtime-service/contract';
import { shippedBundle } from '../harness/bundle-handler';
import { configureHandlerEnv, createBucket, createQueue, endpoints, fakeContext, REGION, sqsRecord, uniqueName } from '../harness/local-aws';
import { startLocalLambda, type LocalLambda } from '../harness/local-lambda/server';

/**
 * Canary deploys end to end with the shipped bundles: deploy-builds starts the canary (live's
 * routing weight, a delayed check on the canary queue), check-canaries judges each step from the
 * invocation audit (items written with recordInvocation, as the invoke path writes them) and moves
 * live through the steps, promotes, or rolls back. DynamoDB Local, fauxqs (queues, S3) and the local
 * Lambda endpoint; one settable clock for both handlers. Delayed check messages are read from
 * fauxqs's inspection endpoint (they cannot be received for minutes) and handed to the checker as
 * the event source mapping would once they are due.
 */
jest.setTimeout(90_000);

const PREFIX = 'cnry';
const POLICY: DeploymentPolicy = { strategy: 'canary', steps: [10, 50], stepMinutes: 5, maxErrorRatePercent: 5, minInvocations: 10 };
type SqsFn = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

let t: RuntimeTables;
let lambda: LocalLambda;
let client: LambdaClient;
let deploy: SqsFn;
let checker: SqsFn;
const bucket = uniqueName('canary-artifacts');
const canaryQueueName = uniqueName('canary-checks');
const clock = { ms: Date.parse('2026-11-29T09:00:00.000Z') };
const now = () => new Date(clock.ms);
const advanceMinutes = (m: number) => { clock.ms += m * 60_000; };
let seq = 0;

beforeAll(async () => {
  t = await runtimeTables();
  await createBucket(t.clients.s3, bucket);
  lambda = await startLocalLambda({ s3Endpoint: endpoints().fauxqs });
  client = new LambdaClient({ region: REGION, endpoint: lambda.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
  const canaryQueue = await createQueue(t.clients.sqs, canaryQueueName);
  configureHandlerEnv({
    [E.REGISTRY_TABLE_NAME]: t.registryTable,
    [E.AUDIT_TABLE_NAME]: t.auditTable,
    [E.FUNCTION_PREFIX]: PREFIX,
    [E.FUNCTION_LIMITS]: JSON.stringify(DEFAULT_FUNCTION_LIMITS),
    [E.EXECUTION_ROLE_ARN]: 'arn:aws:iam::000000000000:role/platform-function',
    [E.FUNCTION_TAGS]: JSON.stringify({ [PLATFORM_TAG_KEY]: PREFIX }),
    [E.ASYNC_SUCCESS_DESTINATION_ARN]: 'arn:aws:sqs:us-east-1:000000000000:async-results',
    [E.ASYNC_FAILURE_DESTINATION_ARN]: 'arn:aws:sns:us-east-1:000000000000:async-failures',
    [E.CANARY_QUEUE_URL]: canaryQueue,
    AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint,
  });
  jest.isolateModules(() => {
    /* eslint-disable @typescript-eslint/no-require-imports */
    deploy = require(shippedBundle('functions/lambda-runtime-service/deploy-builds.ts').file).createDeployBuildsHandler({ now });
    checker = require(shippedBundle('functions/lambda-runtime-service/check-canaries.ts').file).createCheckCanariesHandler({ now });
    /* eslint-enable @typescript-eslint/no-require-imports */
  });
});
afterAll(async () => {
  await lambda?.close();
  client?.destroy();
  for (const c of [t?.clients.ddb, t?.clients.sqs, t?.clients.s3]) c?.destroy();
});

const fresh = () => `canary-fn-${++seq}`;
const awsName = (name: string) => awsFunctionName(PREFIX, name);
const liveAlias = (name: string) => lambda.functions.get(awsName(name))!.aliases.get(LIVE_ALIAS)!;
const liveRouting = (name: string) => ({
  version: liveAlias(name).FunctionVersion,
  weights: liveAlias(name).RoutingConfig?.AdditionalVersionWeights ?? {},
});

/** A build's BuildCompleted as the rule delivers it to the deploy queue (an EventBridge event, the envelope its detail). */
async function buildMessage(functionName: string) {
  const createdAt = now().toISOString();
  clock.ms += 1000; // the next build is newer
  const { jobId, envelope } = await storeBuild({
    s3: t.clients.s3, bucket, functionName, createdAt, handlerSource: (id) => `exports.handler = async () => ({ build: '${id}' });\n`,
  });
  return { jobId, body: JSON.stringify(ruleEvent(envelope)) };
}

async function deployBuild(name: string) {
  const build = await buildMessage(name);
  expect((await deploy({ Records: [sqsRecord(build.body)] }, fakeContext('deploy-builds'))).batchItemFailures).toEqual([]);
  return build;
}

/** Check messages for `name` waiting on the canary queue that the test has not handed to the checker yet. */
const handed = new Set<string>();
type PendingCheck = { messageId: string; body: string; check: CanaryCheckMessage; delaySeconds: number };
async function pendingChecks(name: string): Promise<PendingCheck[]> {
  return (await delayedMessages(canaryQueueName))
    .map((m) => ({ ...m, check: JSON.parse(m.body) as CanaryCheckMessage }))
    .filter((m) => m.check.name === name && !handed.has(m.messageId));
}
async function onlyPendingCheck(name: string) {
  const checks = await pendingChecks(name);
  expect(checks).toHaveLength(1);
  return checks[0];
}
/** Hands check messages to the checker in one batch (as SQS delivers them when due); the same one twice is a duplicate delivery. */
async function runChecks(...messages: PendingCheck[]) {
  messages.forEach((m) => handed.add(m.messageId));
  return checker({ Records: messages.map((m) => sqsRecord(m.body, undefined, m.messageId)) }, fakeContext('check-canaries'));
}

/** Audit items as the invoke path writes them: `count` invocations of `version` with `status`, started now. */
async function invocations(name: string, version: string, status: InvocationStatusValue, count: number) {
  for (let i = 0; i < count; i++) {
    await recordInvocation({
      invocationId: randomUUID(), functionName: name, version, mode: 'sync', startedAt: now().toISOString(), status, durationMs: 3,
    }, t.audit);
  }
}

/** A function with version 1 live, then version 2 deployed as a canary; its first check. */
async function startCanary(name: string, policy: DeploymentPolicy = POLICY) {
  await registerFunction({ name, runtime: 'nodejs24.x', deployment: policy }, t.registry);
  const first = await deployBuild(name);
  const second = await deployBuild(name);
  const check = await onlyPendingCheck(name);
  return { first, second, check };
}

/** EMF documents printed while `run` ran (Powertools metrics writes one JSON line per flush to stdout). */
async function emfDuring(run: () => Promise<unknown>): Promise<any[]> {
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    await run();
  } finally {
    process.stdout.write = write;
  }
  return lines.flatMap((l) => l.split('\n')).filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l));
}

describe('canary deploys (deploy-builds and check-canaries, shipped bundles)', () => {
  test('a second build under a canary policy: live routes steps[0]% to it and its check waits the step on the canary queue', async () => {
    const name = fresh();
    const { second, check } = await startCanary(name);
    expect(liveRouting(name)).toEqual({ version: '1', weights: { 2: 0.1 } });
    expect(await getFunction(name, t.registry)).toMatchObject({ currentDeployment: { buildId: second.jobId, lambdaVersion: '2' } });
    expect(check.check).toEqual({
      name, buildId: second.jobId, lambdaVersion: '2', step: 0, stepStartedAt: now().toISOString(), dueAt: new Date(clock.ms + 300_000).toISOString(),
    });
    expect(check.delaySeconds).toBe(300);
  });

  test('healthy: 10% → 50% → 100%; a check received before it is due waits again for the rest of its time', async () => {
    const name = fresh();
    const { second, check } = await startCanary(name);
    advanceMinutes(1);
    await invocations(name, '2', 'success', 12);
    await invocations(name, '1', 'error', 30); // the old version's errors are not the canary's
    await invocations(name, '2', 'pending', 5); // async calls not finished yet are not judged

    // Delivered early (SQS delays at most 15 minutes; a step may be longer): sent again for the 4 minutes left, no Lambda call.
    let calls = lambda.calls.length;
    expect((await runChecks(check)).batchItemFailures).toEqual([]);
    expect(lambda.calls.length).toBe(calls);
    const waiting = await onlyPendingCheck(name);
    expect(waiting.check).toEqual(check.check);
    expect(waiting.delaySeconds).toBe(240);
    expect(liveRouting(name)).toEqual({ version: '1', weights: { 2: 0.1 } });

    advanceMinutes(4);
    calls = lambda.calls.length;
    expect((await runChecks(waiting)).batchItemFailures).toEqual([]);
    expect(liveRouting(name)).toEqual({ version: '1', weights: { 2: 0.5 } });
    // A step costs two Lambda calls: the alias read, the conditional move.
    expect(lambda.calls.slice(calls).map((c) => `${c.operation} ${c.status}`)).toEqual(['GetAlias 200', 'UpdateAlias 200']);
    const step1 = await onlyPendingCheck(name);
    expect(step1.check).toEqual({
      name, buildId: second.jobId, lambdaVersion: '2', step: 1, stepStartedAt: now().toISOString(), dueAt: new Date(clock.ms + 300_000).toISOString(),
    });

    advanceMinutes(2);
    await invocations(name, '2', 'success', 10);
    advanceMinutes(3);
    calls = lambda.calls.length;
    expect((await runChecks(step1)).batchItemFailures).toEqual([]);
    expect(liveRouting(name)).toEqual({ version: '2', weights: {} });
    expect(lambda.calls.slice(calls).map((c) => `${c.operation} ${c.status}`)).toEqual(['GetAlias 200', 'UpdateAlias 200']);
    expect(await pendingChecks(name)).toEqual([]);
    const out = await client.send(new InvokeCommand({ FunctionName: `${awsName(name)}:${LIVE_ALIAS}` }));
    expect(out.ExecutedVersion).toBe('2');
    expect(JSON.parse(Buffer.from(out.Payload!).toString())).toEqual({ build: second.jobId });
  });

  test('unhealthy: errors above the threshold roll back automatically (alias and registry), with a CanaryRollbacks metric', async () => {
    const name = fresh();
    const { first, second, check } = await startCanary(name);
    advanceMinutes(1);
    await invocations(name, '2', 'success', 9);
    await invocations(name, '2', 'error', 2);
    await invocations(name, '2', 'timeout', 1); // 3 of 12: 25% > 5%
    advanceMinutes(4);
    const calls = lambda.calls.length;
    const emf = await emfDuring(async () => expect((await runChecks(check)).batchItemFailures).toEqual([]));
    expect(lambda.calls.slice(calls).map((c) => `${c.operation} ${c.status}`)).toEqual(['GetAlias 200', 'UpdateAlias 200']);

    expect(liveRouting(name)).toEqual({ version: '1', weights: {} });
    expect(await getFunction(name, t.registry)).toMatchObject({
      currentDeployment: { buildId: first.jobId, lambdaVersion: '1' }, previousDeployment: { buildId: second.jobId, lambdaVersion: '2' },
    });
    expect(await pendingChecks(name)).toEqual([]);
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({ FunctionName: name, [LambdaRuntimeMetrics.ROLLBACKS]: 1 });
    expect(emf[0]._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: LAMBDA_RUNTIME_METRICS_NAMESPACE, Metrics: [{ Name: LambdaRuntimeMetrics.ROLLBACKS, Unit: 'Count' }],
    });
    expect(emf[0]._aws.CloudWatchMetrics[0].Dimensions[0]).toContain('FunctionName');

    // The same check delivered again: the canary is no longer current, nothing is rolled back twice.
    expect((await runChecks(check)).batchItemFailures).toEqual([]);
    expect(await getFunction(name, t.registry)).toMatchObject({ currentDeployment: { lambdaVersion: '1' } });
    expect(liveRouting(name)).toEqual({ version: '1', weights: {} });
  });

  test('a duplicated check (twice in one batch, then again) advances one step only', async () => {
    const name = fresh();
    const { check } = await startCanary(name);
    advanceMinutes(1);
    await invocations(name, '2', 'success', 10);
    advanceMinutes(4);
    expect((await runChecks(check, check)).batchItemFailures).toEqual([]);
    expect((await runChecks(check)).batchItemFailures).toEqual([]);
    // Steps [10, 50]: a second advance would have promoted it.
    expect(liveRouting(name)).toEqual({ version: '1', weights: { 2: 0.5 } });

    // Both copies judged at once may each send the next step's check; only one of them acts.
    const next = await pendingChecks(name);
    expect(next.length).toBeGreaterThanOrEqual(1);
    expect(next.every((c) => c.check.step === 1)).toBe(true);
    advanceMinutes(1);
    await invocations(name, '2', 'success', 10);
    advanceMinutes(4);
    expect((await runChecks(...next)).batchItemFailures).toEqual([]);
    expect(liveRouting(name)).toEqual({ version: '2', weights: {} });
  });

  test('a check for a superseded version does nothing: the newer build\'s canary is left as it is', async () => {
    const name = fresh();
    const { check } = await startCanary(name);
    const third = await deployBuild(name);
    // The newer build's canary keeps the recorded deployment (2) as its primary.
    expect(liveRouting(name)).toEqual({ version: '2', weights: { 3: 0.1 } });
    const calls = lambda.calls.length;
    advanceMinutes(5);
    await invocations(name, '2', 'error', 20);
    expect((await runChecks(check)).batchItemFailures).toEqual([]);
    // Decided from the registry; the one Lambda call reads live to see whether a rollback was left half done (it was not).
    expect(lambda.calls.slice(calls).map((c) => c.operation)).toEqual(['GetAlias']);
    expect(liveRouting(name)).toEqual({ version: '2', weights: { 3: 0.1 } });
    expect(await getFunction(name, t.registry)).toMatchObject({ currentDeployment: { buildId: third.jobId, lambdaVersion: '3' } });
  });

  test('a rollback interrupted between the registry and the alias is finished by the redelivered check', async () => {
    const name = fresh();
    const { check } = await startCanary(name);
    // The checker's first write (the registry) happened, the alias move did not: live still splits traffic.
    await rollbackDeployment(name, t.registry, { fromLambdaVersion: '2' });
    expect(liveRouting(name)).toEqual({ version: '1', weights: { 2: 0.1 } });
    advanceMinutes(5);
    expect((await runChecks(check)).batchItemFailures).toEqual([]);
    expect(liveRouting(name)).toEqual({ version: '1', weights: {} });
    expect(await getFunction(name, t.registry)).toMatchObject({ currentDeployment: { lambdaVersion: '1' } });
  });

  test('too few invocations: the step is extended once (judged from its start), then moves on with what it has', async () => {
    const name = fresh();
    const { check } = await startCanary(name);
    advanceMinutes(1);
    await invocations(name, '2', 'success', 3);
    advanceMinutes(4);
    expect((await runChecks(check)).batchItemFailures).toEqual([]);
    expect(liveRouting(name)).toEqual({ version: '1', weights: { 2: 0.1 } });
    const extended = await onlyPendingCheck(name);
    expect(extended.check).toEqual({ ...check.check, dueAt: new Date(clock.ms + 300_000).toISOString(), extensions: 1 });
    expect(extended.delaySeconds).toBe(300);

    advanceMinutes(3);
    await invocations(name, '2', 'success', 2);
    advanceMinutes(2);
    expect((await runChecks(extended)).batchItemFailures).toEqual([]);
    expect(liveRouting(name)).toEqual({ version: '1', weights: { 2: 0.5 } });
  });

  test('a canary queue body that is not a check is dropped, not retried', async () => {
    const calls = lambda.calls.length;
    const result = await checker({ Records: ['nope', '{}', JSON.stringify({ name: 'x', step: -1 })].map((b) => sqsRecord(b)) }, fakeContext('check-canaries'));
    expect(result.batchItemFailures).toEqual([]);
    expect(lambda.calls.length).toBe(calls);
  });
});
