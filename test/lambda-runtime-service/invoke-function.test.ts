import { LambdaClient, PutFunctionConcurrencyCommand } from '@aws-sdk/client-lambda';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { runtimeTables, type RuntimeTables } from './runtime-tables';
import { getInvocation } from '../../functions/lambda-runtime-service/invocation-audit';
import { registerFunction } from '../../functions/lambda-runtime-service/registry-store';
import {
  AuditLayout, awsFunctionName, InvocationStatus, LAMBDA_RUNTIME_METRICS_NAMESPACE, LambdaRuntimeEnv as E, type RateLimit,
} from '../../lib/lambda-runtime-service/contract';
import { loadHandler, shippedBundle } from '../harness/bundle-handler';
import { apiEvent, configureHandlerEnv, createBucket, endpoints, fakeContext, localClients, REGION, uniqueName } from '../harness/local-aws';
import { deployPlatformFunction } from '../harness/local-lambda/platform-function';
import { startLocalLambda, type LocalLambda } from '../harness/local-lambda/server';

/*
 * The shipped invoke-function bundle as API Gateway drives it: registry and audit on DynamoDB Local,
 * functions on the local Lambda endpoint (ZIPs from fauxqs S3 run in child processes), the EMF lines
 * Powertools metrics prints to stdout captured and parsed.
 */
jest.setTimeout(60_000);

type HttpFn = (event: APIGatewayProxyEvent, context: unknown) => Promise<APIGatewayProxyResult>;
const PREFIX = 'plat';
const clients = localClients();
const bucket = uniqueName('invoke-api-code');
let t: RuntimeTables;
let lambda: LocalLambda;
let client: LambdaClient;
let handler: HttpFn;

const ECHO = 'exports.handler = async (event) => ({ echo: event, version: process.env.AWS_LAMBDA_FUNCTION_VERSION });';

async function deploy(name: string, source: string, rateLimit: RateLimit = { requestsPerSecond: 100, burst: 200 }) {
  await deployPlatformFunction({ lambda: client, s3: clients.s3, bucket, functionName: awsFunctionName(PREFIX, name), source });
  await registerFunction({ name, runtime: 'nodejs24.x', rateLimit }, t.registry);
}

interface InvokeRequest { name: string; body?: unknown; query?: Record<string, string>; headers?: Record<string, string> }
const invokeEvent = (req: InvokeRequest): APIGatewayProxyEvent => ({
  ...apiEvent({ method: 'POST', body: req.body, query: req.query, headers: req.headers }),
  resource: '/v1.0/functions/{name}/invoke',
  path: `/v1.0/functions/${req.name}/invoke`,
  pathParameters: { name: req.name },
});

/** EMF documents and log lines printed while `run` ran (Powertools writes one JSON line per flush or log to stdout). */
async function captureEmf<T>(run: () => Promise<T>): Promise<{ result: T; emf: Array<Record<string, any>>; logs: Array<Record<string, any>> }> {
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  // Kept off the terminal: what Lambda would ship to CloudWatch Logs is only read here.
  process.stdout.write = ((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    const result = await run();
    const json = lines.flatMap((l) => l.split('\n')).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    return { result, emf: json.filter((d) => d._aws), logs: json.filter((d) => !d._aws) };
  } finally {
    process.stdout.write = write;
  }
}

const call = (req: InvokeRequest) => captureEmf(() => handler(invokeEvent(req), fakeContext('lambda-runtime-invoke')));
const body = (r: APIGatewayProxyResult) => JSON.parse(r.body);
const metricNames = (doc: Record<string, any>): string[] => doc._aws.CloudWatchMetrics[0].Metrics.map((m: { Name: string }) => m.Name);
const dimensionsOf = (doc: Record<string, any>): string[] => doc._aws.CloudWatchMetrics[0].Dimensions[0];

beforeAll(async () => {
  t = await runtimeTables();
  await createBucket(clients.s3, bucket);
  lambda = await startLocalLambda({ s3Endpoint: endpoints().fauxqs });
  client = new LambdaClient({ region: REGION, endpoint: lambda.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
  configureHandlerEnv({
    [E.REGISTRY_TABLE_NAME]: t.registryTable,
    [E.AUDIT_TABLE_NAME]: t.auditTable,
    [E.FUNCTION_PREFIX]: PREFIX,
    [E.FUNCTION_LIMITS]: '{}',
    [E.RUNTIME_SETTINGS]: '{}',
    AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint,
    POWERTOOLS_METRICS_DISABLED: 'false',
    POWERTOOLS_LOG_LEVEL: 'INFO',
  });
  jest.isolateModules(() => { handler = loadHandler<HttpFn>(shippedBundle('functions/lambda-runtime-service/invoke-function.ts')); });
});

afterAll(async () => {
  await lambda?.close();
  client?.destroy();
});

describe('invoke-function (shipped bundle)', () => {
  test('sync: answers the function result; one EMF document per request with the contract names and FunctionName; ColdStart once', async () => {
    await deploy('echo', ECHO);
    const first = await call({ name: 'echo', body: { n: 1 } });
    expect(first.result.statusCode).toBe(200);
    expect(body(first.result)).toEqual({ echo: { n: 1 }, version: '1' });
    expect(first.emf).toHaveLength(1);
    const doc = first.emf[0];
    expect(doc._aws.CloudWatchMetrics[0].Namespace).toBe(LAMBDA_RUNTIME_METRICS_NAMESPACE);
    expect(dimensionsOf(doc)).toEqual(expect.arrayContaining(['service', 'FunctionName']));
    expect(doc).toMatchObject({ FunctionName: 'echo', service: 'lambda-runtime-invoke', Invocations: 1, ColdStart: 1, MetadataCacheMisses: 1, MetadataCacheHits: 0 });
    expect(doc.Duration).toBeGreaterThanOrEqual(0);
    expect(metricNames(doc)).not.toContain('Errors');
    // The line the construct's all-functions metric filters read.
    expect(first.logs).toContainEqual(expect.objectContaining({ message: 'Invocation recorded', functionName: 'echo', status: 'success', statusCode: 200 }));

    const second = await call({ name: 'echo', body: { n: 2 } });
    expect(second.emf).toHaveLength(1);
    expect(second.emf[0]).toMatchObject({ FunctionName: 'echo', Invocations: 1, MetadataCacheHits: 1, MetadataCacheMisses: 0 });
    expect(metricNames(second.emf[0])).not.toContain('ColdStart');
  });

  test('a function error answers 502 with errorType and errorMessage, counted in Errors', async () => {
    await deploy('boom', "exports.handler = async () => { throw new RangeError('too far'); };");
    const { result, emf, logs } = await call({ name: 'boom', body: {} });
    expect(result.statusCode).toBe(502);
    expect(body(result)).toEqual({ errorType: 'RangeError', errorMessage: 'too far' });
    expect(emf[0]).toMatchObject({ FunctionName: 'boom', Invocations: 1, Errors: 1 });
    expect(logs).toContainEqual(expect.objectContaining({ message: 'Invocation recorded', functionName: 'boom', status: 'error' }));
  });

  test('an unknown function answers 404; its name never becomes a metric dimension', async () => {
    const { result, emf } = await call({ name: 'nobody', body: {} });
    expect(result.statusCode).toBe(404);
    expect(body(result).error.code).toBe('FUNCTION_NOT_FOUND');
    expect(emf).toHaveLength(1);
    expect(dimensionsOf(emf[0])).toEqual(['service']);
    expect(emf[0]).not.toHaveProperty('FunctionName');
    expect(metricNames(emf[0])).not.toContain('Invocations');
  });

  test('at the rate limit: 429 with Retry-After, counted in Throttles', async () => {
    await deploy('tight', ECHO, { requestsPerSecond: 1, burst: 1 });
    // At once, so the wall clock cannot refill the bucket between them: one admitted, two refused.
    const { result: results, emf } = await captureEmf(() => Promise.all([1, 2, 3].map(() =>
      handler(invokeEvent({ name: 'tight', body: {} }), fakeContext('lambda-runtime-invoke')))));
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 429, 429]);
    const refused = results.find((r) => r.statusCode === 429)!;
    expect(Number(refused.headers!['Retry-After'])).toBeGreaterThanOrEqual(1);
    expect(body(refused).error.code).toBe('RATE_LIMITED');
    const throttled = emf.filter((doc) => doc.Throttles === 1);
    expect(throttled).toHaveLength(2);
    for (const doc of throttled) {
      expect(doc).toMatchObject({ FunctionName: 'tight', Invocations: 1 });
      expect(metricNames(doc)).not.toContain('Duration');
    }
  });

  test("Lambda's own throttle (reserved concurrency) answers 429 too, counted in Throttles", async () => {
    await deploy('narrow', 'exports.handler = async () => { await new Promise((r) => setTimeout(r, 1500)); return "ok"; };');
    await client.send(new PutFunctionConcurrencyCommand({ FunctionName: awsFunctionName(PREFIX, 'narrow'), ReservedConcurrentExecutions: 1 }));
    const { result: results, emf } = await captureEmf(() => Promise.all([1, 2, 3].map(() =>
      handler(invokeEvent({ name: 'narrow', body: {} }), fakeContext('lambda-runtime-invoke')))));
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 429, 429]);
    expect(results.find((r) => r.statusCode === 429)!.headers).toMatchObject({ 'Retry-After': '1' });
    expect(emf.filter((doc) => doc.Throttles === 1 && doc.FunctionName === 'narrow')).toHaveLength(2);
  });

  test('413 for an oversize payload, 400 for non-JSON, an unknown mode or a bad callbackUrl; nothing reaches Lambda', async () => {
    await deploy('strict', ECHO);
    const invokes = () => lambda.calls.filter((c) => c.operation === 'Invoke').length;
    const before = invokes();
    const big = await call({ name: 'strict', body: JSON.stringify('x'.repeat(300 * 1024)), query: { mode: 'async' } });
    expect(big.result.statusCode).toBe(413);
    expect((await call({ name: 'strict', body: '{not json' })).result.statusCode).toBe(400);
    const badMode = await call({ name: 'strict', body: {}, query: { mode: 'later' } });
    expect(badMode.result.statusCode).toBe(400);
    expect(body(badMode.result).error.message).toMatch(/^mode/);
    const refusals: Array<Pick<InvokeRequest, 'query' | 'headers'>> = [
      { query: { mode: 'async', callbackUrl: 'http://example.com/hook' } },
      { query: { mode: 'async', callbackUrl: `https://example.com/${'a'.repeat(2048)}` } },
      { query: { mode: 'async', callbackUrl: 'https://user:pw@example.com/hook' } },
      { query: { mode: 'async', callbackUrl: 'https://169.254.169.254/latest' } },
      { query: { mode: 'async', callbackUrl: 'not a url' } },
      { query: { mode: 'async' }, headers: { 'X-Callback-Url': 'https://10.0.0.1/hook' } },
      { query: {}, headers: { 'X-Callback-Url': 'https://example.com/hook' } }, // sync never calls back
    ];
    for (const refusal of refusals) {
      const { result } = await call({ name: 'strict', body: {}, ...refusal });
      expect([result.statusCode, body(result).error.message]).toEqual([400, expect.stringMatching(/^callbackUrl: /)]);
    }
    expect(invokes()).toBe(before);
  });

  test('async: 202 with the id and its Location; the pending audit item carries the Lambda request id and callbackUrl, and the pointer leads to it', async () => {
    await deploy('later', ECHO);
    const { result, emf } = await call({ name: 'later', body: { job: 1 }, query: { mode: 'async' }, headers: { 'X-Callback-Url': 'https://hooks.example.com/done' } });
    expect(result.statusCode).toBe(202);
    const { invocationId } = body(result);
    expect(result.headers).toMatchObject({ Location: `/v1.0/invocations/${invocationId}` });
    expect(emf[0]).toMatchObject({ FunctionName: 'later', Invocations: 1 });
    const audit = await getInvocation(invocationId, t.audit);
    expect(audit).toMatchObject({ status: InvocationStatus.PENDING, mode: 'async', callbackUrl: 'https://hooks.example.com/done' });
    await lambda.drain();
    const run = lambda.invocations.find((i) => i.functionName === awsFunctionName(PREFIX, 'later'))!;
    expect(audit!.requestId).toBe(run.requestId);
    const pointer = await t.rawAuditItem(AuditLayout.requestPk(run.requestId));
    expect(pointer).toMatchObject({ invocationId, ttl: (await t.rawAuditItem(AuditLayout.invocationPk(invocationId)))!.ttl });
  });
});
