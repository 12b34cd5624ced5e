import { randomUUID } from 'node:crypto';
import {
  CreateAliasCommand, CreateFunctionCommand, InvokeCommand, LambdaClient, PublishVersionCommand, UpdateAliasCommand, UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { runtimeTables, type RuntimeTables } from './runtime-tables';
import { deleteFunction, getFunction, recordDeployment, registerFunction, rollbackDeployment } from '../../functions/lambda-runtime-service/registry-store';
import {
  awsFunctionName, DEFAULT_FUNCTION_LIMITS, LambdaRuntimeEnv as E, LambdaRuntimeErrors, LIVE_ALIAS,
} from '../../lib/lambda-runtime-service/contract';
import { yazlZip } from '../build-pipeline/zip-corpus';
import { loadHandler, shippedBundle } from '../harness/bundle-handler';
import { apiEvent, configureHandlerEnv, endpoints, fakeContext, REGION } from '../harness/local-aws';
import { startLocalLambda, type LocalLambda } from '../harness/local-lambda/server';

/**
 * The rollback handler's shipped bundle driven with API Gateway REST proxy events against DynamoDB
 * Local (the registry) and the local Lambda endpoint (the `live` alias): every rollback is checked
 * by invoking `{prefix}-{name}:live` and reading which build answered.
 */
jest.setTimeout(60_000);

type HttpFn = (event: APIGatewayProxyEvent, context: unknown) => Promise<APIGatewayProxyResult>;
const parse = (r: APIGatewayProxyResult) => (r.body ? JSON.parse(r.body) : undefined);
const PREFIX = 'rbk';
const ROLE = 'arn:aws:iam::000000000000:role/platform-function';

let t: RuntimeTables;
let lambda: LocalLambda;
let client: LambdaClient;
let rollbackFn: HttpFn;
let seq = 0;
let buildClock = Date.parse('2026-11-29T07:00:00.000Z');

beforeAll(async () => {
  t = await runtimeTables();
  lambda = await startLocalLambda({ s3Endpoint: endpoints().fauxqs });
  client = new LambdaClient({ region: REGION, endpoint: lambda.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
  configureHandlerEnv({
    AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint,
    [E.REGISTRY_TABLE_NAME]: t.registryTable,
    [E.FUNCTION_LIMITS]: JSON.stringify(DEFAULT_FUNCTION_LIMITS),
    [E.FUNCTION_PREFIX]: PREFIX,
  });
  rollbackFn = loadHandler<HttpFn>(shippedBundle('functions/lambda-runtime-service/rollback-function.ts'));
});
afterAll(async () => {
  await lambda?.close();
  client?.destroy();
  t?.clients.ddb.destroy();
});

const fresh = () => `rollback-fn-${++seq}`;
const awsName = (name: string) => awsFunctionName(PREFIX, name);

function rollbackEvent(name: string, method = 'POST'): APIGatewayProxyEvent {
  return {
    ...apiEvent({ method }),
    resource: '/v1.0/functions/{name}/rollback',
    path: `/v1.0/functions/${name}/rollback`,
    pathParameters: { name },
  };
}
const rollback = (name: string, headers: Record<string, string> = {}) =>
  rollbackFn({ ...rollbackEvent(name), headers: { ...rollbackEvent(name).headers, ...headers } }, fakeContext('rollback-function'));
const expectProblem = (res: APIGatewayProxyResult, status: number, code?: string) => {
  expect(res.statusCode).toBe(status);
  const body = parse(res);
  expect(body.error).toMatchObject({ message: expect.any(String), correlationId: res.headers!['x-correlation-id'] });
  if (code) expect(body.error.code).toBe(code);
};

/**
 * What the deploy path leaves after a build (without depending on it): the code published as a
 * new Lambda version, recorded in the registry, `live` moved to it (or, as a canary, given a weight).
 */
async function deploy(name: string, options: { canaryWeight?: number } = {}): Promise<{ buildId: string; version: string }> {
  const buildId = randomUUID();
  const zip = (await yazlZip([{ name: 'index.js', data: `exports.handler = async () => ({ build: '${buildId}' });\n` }])).toString('base64');
  const exists = lambda.functions.has(awsName(name));
  if (!exists) {
    await client.send(new CreateFunctionCommand({
      FunctionName: awsName(name), Role: ROLE, Runtime: 'nodejs24.x', Handler: 'index.handler', Code: { ZipFile: Buffer.from(zip, 'base64') },
    }));
  } else {
    await client.send(new UpdateFunctionCodeCommand({ FunctionName: awsName(name), ZipFile: Buffer.from(zip, 'base64') }));
  }
  const { Version } = await client.send(new PublishVersionCommand({ FunctionName: awsName(name) }));
  buildClock += 1000;
  const recorded = await recordDeployment(name, { buildId, buildCreatedAt: new Date(buildClock).toISOString(), lambdaVersion: Version! }, t.registry);
  expect(recorded.outcome).toBe('deployed');
  const previous = recorded.outcome === 'deployed' ? recorded.record.previousDeployment : undefined;
  if (!exists) {
    await client.send(new CreateAliasCommand({ FunctionName: awsName(name), Name: LIVE_ALIAS, FunctionVersion: Version! }));
  } else if (options.canaryWeight && previous) {
    await client.send(new UpdateAliasCommand({
      FunctionName: awsName(name),
      Name: LIVE_ALIAS,
      FunctionVersion: previous.lambdaVersion,
      RoutingConfig: { AdditionalVersionWeights: { [Version!]: options.canaryWeight } },
    }));
  } else {
    await client.send(new UpdateAliasCommand({
      FunctionName: awsName(name), Name: LIVE_ALIAS, FunctionVersion: Version!, RoutingConfig: { AdditionalVersionWeights: {} },
    }));
  }
  return { buildId, version: Version! };
}

async function invokeLive(name: string): Promise<{ build: string; executedVersion?: string }> {
  const out = await client.send(new InvokeCommand({ FunctionName: `${awsName(name)}:${LIVE_ALIAS}`, Payload: Buffer.from('{}') }));
  expect(out.FunctionError).toBeUndefined();
  return { ...JSON.parse(Buffer.from(out.Payload!).toString('utf8')), executedVersion: out.ExecutedVersion };
}
const liveAlias = (name: string) => lambda.functions.get(awsName(name))!.aliases.get(LIVE_ALIAS)!;
const aliasMoves = (from: number) => lambda.calls.slice(from).filter((c) => c.operation === 'UpdateAlias');

describe('POST /v1.0/functions/{name}/rollback', () => {
  test('200: live moves to the previous version, so an Invoke of live runs the previous code; a second rollback is 409', async () => {
    const name = fresh();
    await registerFunction({ name, runtime: 'nodejs24.x' }, t.registry);
    const first = await deploy(name);
    const second = await deploy(name);
    expect(await invokeLive(name)).toEqual({ build: second.buildId, executedVersion: '2' });

    const correlationId = `rb-${randomUUID()}`;
    const res = await rollback(name, { 'x-correlation-id': correlationId });
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({ 'x-correlation-id': correlationId });
    expect(parse(res)).toEqual({ name, lambdaVersion: '1', buildId: first.buildId });
    expect(await invokeLive(name)).toEqual({ build: first.buildId, executedVersion: '1' });
    expect(await getFunction(name, t.registry)).toMatchObject({
      currentDeployment: { buildId: first.buildId, lambdaVersion: '1' }, previousDeployment: { buildId: second.buildId },
    });

    // Nothing older than the current deployment: 409, and live stays (no roll forward to the bad build).
    expectProblem(await rollback(name), 409, LambdaRuntimeErrors.NOTHING_TO_ROLL_BACK);
    expect(await invokeLive(name)).toEqual({ build: first.buildId, executedVersion: '1' });
    expect((await getFunction(name, t.registry))!.currentDeployment!.buildId).toBe(first.buildId);

    // A new build after the rollback deploys; rolling it back returns to the rolled-back-to build.
    const third = await deploy(name);
    expect(await invokeLive(name)).toMatchObject({ build: third.buildId });
    expect(parse(await rollback(name))).toEqual({ name, lambdaVersion: '1', buildId: first.buildId });
    expect(await invokeLive(name)).toEqual({ build: first.buildId, executedVersion: '1' });
  });

  test('a canary in progress: the weight is cleared, all traffic on the previous version', async () => {
    const name = fresh();
    await registerFunction({ name, runtime: 'nodejs24.x' }, t.registry);
    const first = await deploy(name);
    await deploy(name, { canaryWeight: 0.5 });
    expect(liveAlias(name)).toMatchObject({ FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { 2: 0.5 } } });
    expect(parse(await rollback(name))).toEqual({ name, lambdaVersion: '1', buildId: first.buildId });
    const alias = liveAlias(name);
    expect([alias.FunctionVersion, alias.RoutingConfig?.AdditionalVersionWeights ?? {}]).toEqual(['1', {}]);
    for (let i = 0; i < 5; i++) expect(await invokeLive(name)).toEqual({ build: first.buildId, executedVersion: '1' });
  });

  test('409 NOTHING_TO_ROLL_BACK with no deployment or only one; 404 for an unknown or deleted function; no alias touched', async () => {
    const none = fresh();
    await registerFunction({ name: none, runtime: 'nodejs24.x' }, t.registry);
    const one = fresh();
    await registerFunction({ name: one, runtime: 'nodejs24.x' }, t.registry);
    const only = await deploy(one);
    const deleted = fresh();
    await registerFunction({ name: deleted, runtime: 'nodejs24.x' }, t.registry);
    await deploy(deleted);
    await deploy(deleted);
    await deleteFunction(deleted, t.registry);
    const from = lambda.calls.length;

    expectProblem(await rollback(none), 409, LambdaRuntimeErrors.NOTHING_TO_ROLL_BACK);
    expectProblem(await rollback(one), 409, LambdaRuntimeErrors.NOTHING_TO_ROLL_BACK);
    expectProblem(await rollback(fresh()), 404, LambdaRuntimeErrors.FUNCTION_NOT_FOUND);
    expectProblem(await rollback(deleted), 404, LambdaRuntimeErrors.FUNCTION_NOT_FOUND);
    expect(aliasMoves(from)).toEqual([]);
    expect(await invokeLive(one)).toEqual({ build: only.buildId, executedVersion: '1' });
  });

  test('400 for an invalid name before any read (against a registry table that does not exist); 405 for another method', async () => {
    const saved = process.env[E.REGISTRY_TABLE_NAME];
    process.env[E.REGISTRY_TABLE_NAME] = 'no-such-table';
    let isolated: HttpFn | undefined;
    jest.isolateModules(() => { isolated = loadHandler<HttpFn>(shippedBundle('functions/lambda-runtime-service/rollback-function.ts')); });
    process.env[E.REGISTRY_TABLE_NAME] = saved;
    for (const bad of ['UPPER', '-dash', 'a'.repeat(41), 'x/y']) {
      const res = await isolated!(rollbackEvent(bad), fakeContext());
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(parse(res).error.message).toMatch(/path parameter 'name'/);
    }
    // A valid name does reach the (missing) table: the 400s above were decided before any read.
    expect((await isolated!(rollbackEvent('valid-name'), fakeContext())).statusCode).toBe(500);
    expectProblem(await rollbackFn(rollbackEvent(fresh(), 'GET'), fakeContext()), 405, 'METHOD_NOT_ALLOWED');
  });

  test('5 concurrent rollbacks of one function: exactly one 200, the rest 409; rolled back once, not toggled', async () => {
    const name = fresh();
    await registerFunction({ name, runtime: 'nodejs24.x' }, t.registry);
    await deploy(name);
    const second = await deploy(name);
    const third = await deploy(name);
    const results = await Promise.all(Array.from({ length: 5 }, () => rollback(name)));
    const statuses = results.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(4);
    expect(parse(results[statuses.indexOf(200)])).toEqual({ name, lambdaVersion: '2', buildId: second.buildId });
    expect(await getFunction(name, t.registry)).toMatchObject({
      currentDeployment: { buildId: second.buildId }, previousDeployment: { buildId: third.buildId },
    });
    expect(await invokeLive(name)).toEqual({ build: second.buildId, executedVersion: '2' });
  });

  test('a retry after the registry was rolled back but live was not moved (a crash between the two) repairs live, and is 409', async () => {
    const name = fresh();
    await registerFunction({ name, runtime: 'nodejs24.x' }, t.registry);
    const first = await deploy(name);
    await deploy(name);
    // The registry half of a rollback, as if the handler died before UpdateAlias.
    await rollbackDeployment(name, t.registry, { fromLambdaVersion: '2', onlyToOlder: true });
    expect(liveAlias(name).FunctionVersion).toBe('2');
    expectProblem(await rollback(name), 409, LambdaRuntimeErrors.NOTHING_TO_ROLL_BACK);
    expect(await invokeLive(name)).toEqual({ build: first.buildId, executedVersion: '1' });
  });
});
