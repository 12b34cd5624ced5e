import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateAliasCommand, CreateFunctionCommand, LambdaClient, PublishVersionCommand, PutFunctionConcurrencyCommand } from '@aws-sdk/client-lambda';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { runtimeTables, type RuntimeTables } from './runtime-tables';
import { getInvocation, invocationIdOfRequest } from '../../functions/lambda-runtime-service/invocation-audit';
import { createFunctionCache, INVOKE_PAYLOAD_LIMITS, invokeFunction, takeCacheStats, type InvokeServices } from '../../functions/lambda-runtime-service/invoke-logic';
import { RateLimiter } from '../../functions/lambda-runtime-service/rate-limiter';
import { deleteFunction, registerFunction, updateFunction } from '../../functions/lambda-runtime-service/registry-store';
import { awsFunctionName, InvocationStatus, type RateLimit } from '../../lib/lambda-runtime-service/contract';
import { yazlZip } from '../build-pipeline/zip-corpus';
import { createBucket, endpoints, localClients, REGION, uniqueName } from '../harness/local-aws';
import { startLocalLambda, type LocalLambda } from '../harness/local-lambda/server';

/**
 * The invoke path against DynamoDB Local (registry, rate bucket, audit) and the local Lambda
 * endpoint running real nodejs ZIPs from fauxqs S3. Functions are created straight through the
 * harness with the SDK (CreateFunction, PublishVersion, CreateAlias `live`), as a deploy would leave them.
 */
jest.setTimeout(60_000);

const PREFIX = 'plat';
const ROLE = 'arn:aws:iam::000000000000:role/platform-function';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const clients = localClients();
const bucket = uniqueName('invoke-code');
let t: RuntimeTables;
let lambda: LocalLambda;
let client: LambdaClient;
/** DynamoDB calls of the services under test, counted by a middleware on their own client (no mock: real requests). */
let ddbCalls = 0;
let countedDoc: DynamoDBDocumentClient;

const ECHO = 'exports.handler = async (event) => ({ echo: event, version: process.env.AWS_LAMBDA_FUNCTION_VERSION });';

/** Uploads a ZIP, creates `{prefix}-{name}`, publishes version 1 and points `live` at it; registers `name`. */
async function deploy(name: string, source: string, rateLimit: RateLimit = { requestsPerSecond: 100, burst: 200 }) {
  const zip = await yazlZip([{ name: 'index.js', data: source }]);
  const key = `${name}/v1.zip`;
  await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: zip }));
  const FunctionName = awsFunctionName(PREFIX, name);
  await client.send(new CreateFunctionCommand({
    FunctionName, Runtime: 'nodejs24.x', Role: ROLE, Handler: 'index.handler', Code: { S3Bucket: bucket, S3Key: key }, Timeout: 10,
  }));
  const { Version } = await client.send(new PublishVersionCommand({ FunctionName }));
  await client.send(new CreateAliasCommand({ FunctionName, Name: 'live', FunctionVersion: Version }));
  return registerFunction({ name, runtime: 'nodejs24.x', rateLimit }, t.registry);
}

/** One container's services: its own cache and limiter (the limiter's clock is the test's, so no refill unless advanced). */
function container(): InvokeServices {
  return {
    lambda: client,
    functionPrefix: PREFIX,
    cache: createFunctionCache({ ...t.registry, db: countedDoc }, {}, () => t.clock.ms),
    rateLimiter: new RateLimiter({ db: countedDoc, tableName: t.registryTable, nowMs: () => t.clock.ms }),
    audit: { ...t.audit, db: countedDoc },
    onAuditFailure: (error) => { throw error; },
  };
}

const invocationsOf = (name: string) => lambda.invocations.filter((i) => i.functionName === awsFunctionName(PREFIX, name));
const invokeCalls = () => lambda.calls.filter((c) => c.operation === 'Invoke').length;
const json = (body: string) => JSON.parse(body);
const opts = (mode: 'sync' | 'async' = 'sync') => ({ mode, correlationId: 'corr-1' });

beforeAll(async () => {
  t = await runtimeTables();
  await createBucket(clients.s3, bucket);
  lambda = await startLocalLambda({ s3Endpoint: endpoints().fauxqs });
  // One attempt per call: the SDK would retry 429s and hide Lambda's throttle from the invoke path.
  client = new LambdaClient({ region: REGION, endpoint: lambda.endpoint, credentials, maxAttempts: 1 });
  const ddb = new DynamoDBClient({ region: REGION, endpoint: endpoints().dynamodb, credentials });
  ddb.middlewareStack.add((next) => async (args) => { ddbCalls++; return next(args); }, { step: 'initialize', name: 'countCalls' });
  countedDoc = DynamoDBDocumentClient.from(ddb);
});

afterAll(async () => {
  await lambda?.close();
  client?.destroy();
  t?.clients.ddb.destroy();
});

describe('invokeFunction, synchronous', () => {
  test('answers the function payload and audits success with the executed version; 4 AWS calls on a miss, 3 on a hit', async () => {
    await deploy('echo', ECHO);
    const services = container();
    const before = { ddb: ddbCalls, invoke: invokeCalls() };
    const result = await invokeFunction('echo', JSON.stringify({ n: 1, text: 'héllo' }), opts(), services);
    expect(result.statusCode).toBe(200);
    expect(json(result.body)).toEqual({ echo: { n: 1, text: 'héllo' }, version: '1' });
    expect(result.headers).toMatchObject({ 'x-correlation-id': 'corr-1' });
    // Registry GetItem (cache miss) + rate UpdateItem + audit PutItem, and one Invoke.
    expect([ddbCalls - before.ddb, invokeCalls() - before.invoke]).toEqual([3, 1]);

    const audit = await getInvocation(result.invocationId!, t.audit);
    expect(audit).toMatchObject({
      functionName: 'echo', mode: 'sync', status: InvocationStatus.SUCCESS, version: '1', correlationId: 'corr-1',
    });
    expect(audit!.durationMs).toBeGreaterThanOrEqual(0);

    const again = { ddb: ddbCalls, invoke: invokeCalls() };
    expect((await invokeFunction('echo', '{"n":2}', opts(), services)).statusCode).toBe(200);
    expect([ddbCalls - again.ddb, invokeCalls() - again.invoke]).toEqual([2, 1]); // cache hit: limiter + audit
    expect(takeCacheStats(services)).toEqual({ hits: 1, misses: 1, hitRate: 0.5 });
    expect(takeCacheStats(services)).toEqual({ hits: 0, misses: 0, hitRate: 0 });
  });

  test('a function error answers 502 with errorType and errorMessage only, audited as error', async () => {
    await deploy('boom', "exports.handler = async (e) => { throw new TypeError('bad input ' + e.id); };");
    const result = await invokeFunction('boom', '{"id":7}', opts(), container());
    expect(result.statusCode).toBe(502);
    expect(json(result.body)).toEqual({ errorType: 'TypeError', errorMessage: 'bad input 7' }); // no trace
    expect(result.functionError).toBe(true);
    expect(await getInvocation(result.invocationId!, t.audit)).toMatchObject({
      status: InvocationStatus.ERROR, errorType: 'TypeError', errorMessage: 'bad input 7', version: '1',
    });
  });

  test('an unknown name answers 404 without calling Lambda; a registered name with nothing deployed too', async () => {
    const before = invokeCalls();
    const unknown = await invokeFunction('nobody-here', '{}', opts(), container());
    expect(unknown.statusCode).toBe(404);
    expect(json(unknown.body).error).toMatchObject({ code: 'FUNCTION_NOT_FOUND', correlationId: 'corr-1' });
    expect((await invokeFunction('Not_A_Name', '{}', opts(), container())).statusCode).toBe(404);
    expect(invokeCalls()).toBe(before);

    await registerFunction({ name: 'ghost', runtime: 'nodejs24.x' }, t.registry); // no AWS function: Lambda's ResourceNotFound
    const ghost = await invokeFunction('ghost', '{}', opts(), container());
    expect(ghost.statusCode).toBe(404);
    expect(await getInvocation(ghost.invocationId!, t.audit)).toMatchObject({ status: InvocationStatus.ERROR, errorType: 'ResourceNotFoundException' });
  });

  test('an oversize payload answers 413 before the rate limit and Lambda (sync 6 MB, async 256 KB)', async () => {
    await deploy('big', ECHO);
    const before = { ddb: ddbCalls, invoke: invokeCalls() };
    const services = container();
    const sync = await invokeFunction('big', JSON.stringify('x'.repeat(INVOKE_PAYLOAD_LIMITS.syncBytes)), opts(), services);
    const async = await invokeFunction('big', JSON.stringify('x'.repeat(INVOKE_PAYLOAD_LIMITS.asyncBytes)), opts('async'), services);
    expect([sync.statusCode, async.statusCode]).toEqual([413, 413]);
    expect(json(sync.body).error.code).toBe('PAYLOAD_TOO_LARGE');
    expect([ddbCalls - before.ddb, invokeCalls() - before.invoke]).toEqual([1, 0]); // the registry read only
    expect((await invokeFunction('big', 'not json', opts(), services)).statusCode).toBe(400);
  });
});

describe('invokeFunction, limits', () => {
  test('50 concurrent calls with burst 5: exactly 5 reach Lambda, 45 answer 429 with Retry-After, audited throttled', async () => {
    await deploy('limited', ECHO, { requestsPerSecond: 1, burst: 5 });
    const services = container();
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => invokeFunction('limited', JSON.stringify({ i }), opts(), services)));
    const ok = results.filter((r) => r.statusCode === 200);
    const throttled = results.filter((r) => r.statusCode === 429);
    expect([ok.length, throttled.length]).toEqual([5, 45]);
    expect(invocationsOf('limited')).toHaveLength(5);
    for (const r of throttled) {
      expect(Number(r.headers!['Retry-After'])).toBeGreaterThanOrEqual(1);
      expect(json(r.body as string).error.code).toBe('RATE_LIMITED');
    }
    const audits = await Promise.all(throttled.slice(0, 5).map((r) => getInvocation(r.invocationId!, t.audit)));
    for (const a of audits) expect(a).toMatchObject({ status: InvocationStatus.THROTTLED, durationMs: 0 });
  });

  test("Lambda's reserved-concurrency throttle answers 429, audited throttled", async () => {
    await deploy('narrow', 'exports.handler = async () => { await new Promise((r) => setTimeout(r, 1500)); return "ok"; };');
    await client.send(new PutFunctionConcurrencyCommand({ FunctionName: awsFunctionName(PREFIX, 'narrow'), ReservedConcurrentExecutions: 1 }));
    const services = container();
    const results = await Promise.all([1, 2, 3].map(() => invokeFunction('narrow', '{}', opts(), services)));
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 429, 429]);
    const throttled = results.find((r) => r.statusCode === 429)!;
    expect(throttled.headers).toMatchObject({ 'Retry-After': '1' });
    expect(await getInvocation(throttled.invocationId!, t.audit)).toMatchObject({
      status: InvocationStatus.THROTTLED, errorType: 'TooManyRequestsException',
    });
  });
});

describe('invokeFunction, asynchronous', () => {
  test('answers 202 with an invocation id readable as pending at once; Lambda runs it', async () => {
    await deploy('later', ECHO);
    const result = await invokeFunction('later', '{"job":42}', opts('async'), container());
    expect(result.statusCode).toBe(202);
    const { invocationId } = json(result.body);
    expect(invocationId).toBe(result.invocationId);
    expect(await getInvocation(invocationId, t.audit)).toMatchObject({ status: InvocationStatus.PENDING, mode: 'async', functionName: 'later' });
    await lambda.drain();
    const runs = invocationsOf('later');
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ invocationType: 'Event', executedVersion: '1' });
    // Lambda's request id (what its destination record will name) is linked to the audit item.
    expect(await getInvocation(invocationId, t.audit)).toMatchObject({ status: InvocationStatus.PENDING, requestId: runs[0].requestId });
    expect(await invocationIdOfRequest(runs[0].requestId, t.audit)).toBe(invocationId);
    expect(result.headers).toMatchObject({ Location: `/v1.0/invocations/${invocationId}` });
  });

  test('an async call Lambda refuses finishes its pending audit item with the refusal; an unreachable Lambda answers 503', async () => {
    await registerFunction({ name: 'ghost-async', runtime: 'nodejs24.x' }, t.registry); // registered, never deployed
    const refused = await invokeFunction('ghost-async', '{}', opts('async'), container());
    expect(refused.statusCode).toBe(404);
    expect(await getInvocation(refused.invocationId!, t.audit)).toMatchObject({
      mode: 'async', status: InvocationStatus.ERROR, errorType: 'ResourceNotFoundException',
    });

    await deploy('offline', ECHO);
    // Nothing listens on port 9: a network error with no HTTP status, Lambda's own failure to the caller.
    const down = new LambdaClient({ region: REGION, endpoint: 'http://127.0.0.1:9', credentials, maxAttempts: 1 });
    const result = await invokeFunction('offline', '{}', opts(), { ...container(), lambda: down });
    down.destroy();
    expect(result.statusCode).toBe(503);
    expect(result.headers).toMatchObject({ 'Retry-After': '1' });
    expect(json(result.body).error.code).toBe('LAMBDA_UNAVAILABLE');
    expect(await getInvocation(result.invocationId!, t.audit)).toMatchObject({ status: InvocationStatus.ERROR });
  });
});

describe('invokeFunction and the metadata cache', () => {
  test('a registry update in this container is seen at once; another container serves its entry until the TTL', async () => {
    await deploy('mutable', ECHO, { requestsPerSecond: 1, burst: 1 });
    const here = container();
    const elsewhere = container();
    expect((await invokeFunction('mutable', '{}', opts(), here)).statusCode).toBe(200);
    expect((await invokeFunction('mutable', '{}', opts(), elsewhere)).statusCode).toBe(429); // burst 1 spent; caches both warm

    const updated = await updateFunction('mutable', { rateLimit: { requestsPerSecond: 1, burst: 50 } }, 1, t.registry);
    here.cache.set('mutable', updated); // what this container's update handler does
    expect((await invokeFunction('mutable', '{}', opts(), here)).statusCode).toBe(200);
    expect((await invokeFunction('mutable', '{}', opts(), elsewhere)).statusCode).toBe(429); // stale limit, within its TTL

    await deleteFunction('mutable', t.registry);
    here.cache.invalidate('mutable');
    expect((await invokeFunction('mutable', '{}', opts(), here)).statusCode).toBe(404);
    t.advance(10); // past the TTL: the other container reads the registry again
    expect((await invokeFunction('mutable', '{}', opts(), elsewhere)).statusCode).toBe(404);
  });
});
