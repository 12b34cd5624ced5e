import { randomBytes, randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { runtimeTables, type RuntimeTables } from './runtime-tables';
import { recordInvocation, type InvocationRecord } from '../../functions/lambda-runtime-service/invocation-audit';
import { DEFAULT_RUNTIME_SETTINGS, LambdaRuntimeEnv as E, LambdaRuntimeErrors } from '../../lib/lambda-runtime-service/contract';
import { loadHandler, shippedBundle } from '../harness/bundle-handler';
import { apiEvent, configureHandlerEnv, fakeContext, uniqueName } from '../harness/local-aws';
import { startLocalSecretsManager, type LocalSecretsManager } from '../harness/local-secrets-manager';

/**
 * The invocation read API's shipped bundle driven with API Gateway REST proxy events against
 * DynamoDB Local (the audit table, seeded with invocation-audit's recordInvocation) and the local
 * Secrets Manager (the page token key).
 */
jest.setTimeout(60_000);

type HttpFn = (event: APIGatewayProxyEvent, context: unknown) => Promise<APIGatewayProxyResult>;
const parse = (r: APIGatewayProxyResult) => (r.body ? JSON.parse(r.body) : undefined);
const DAY = 86_400_000;
// A short retention (the construct's prop), so a range longer than it is easy to ask for.
const RETENTION_DAYS = 7;

function byIdEvent(id: string, method = 'GET'): APIGatewayProxyEvent {
  return { ...apiEvent({ method }), resource: '/v1.0/invocations/{id}', path: `/v1.0/invocations/${id}`, pathParameters: { id } };
}
function listEvent(name: string, query: Record<string, string> = {}): APIGatewayProxyEvent {
  return {
    ...apiEvent({ method: 'GET', query }),
    resource: '/v1.0/functions/{name}/invocations',
    path: `/v1.0/functions/${name}/invocations`,
    pathParameters: { name },
  };
}

let t: RuntimeTables;
let secrets: LocalSecretsManager;
let api: HttpFn;
let seq = 0;
const fresh = () => `inv-fn-${++seq}-${randomUUID().slice(0, 6)}`;
const expectProblem = (res: APIGatewayProxyResult, status: number, code?: string) => {
  expect(res.statusCode).toBe(status);
  const body = parse(res);
  expect(body.error).toMatchObject({ message: expect.any(String), correlationId: res.headers!['x-correlation-id'] });
  if (code) expect(body.error.code).toBe(code);
  return body.error as { code: string; message: string };
};

/** Records `count` invocations of `name`, one per `stepMs`, the newest `newestAgoMs` before now; newest first. */
async function seed(name: string, count: number, options: { newestAgoMs?: number; stepMs?: number } = {}): Promise<InvocationRecord[]> {
  const now = Date.now();
  const records = Array.from({ length: count }, (_, i): InvocationRecord => ({
    invocationId: randomUUID(),
    functionName: name,
    mode: 'sync',
    startedAt: new Date(now - (options.newestAgoMs ?? 60_000) - i * (options.stepMs ?? 60_000)).toISOString(),
    status: i % 3 === 0 ? 'error' : 'success',
    durationMs: 10 + i,
    version: '1',
  }));
  for (const r of records) expect(await recordInvocation(r, { ...t.audit, settings: { auditRetentionSeconds: RETENTION_DAYS * 86_400 } })).toBe(true);
  return records;
}

beforeAll(async () => {
  t = await runtimeTables();
  secrets = await startLocalSecretsManager();
  configureHandlerEnv({
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
    [E.AUDIT_TABLE_NAME]: t.auditTable,
    [E.RUNTIME_SETTINGS]: JSON.stringify({ ...DEFAULT_RUNTIME_SETTINGS, auditRetentionSeconds: RETENTION_DAYS * 86_400 }),
    [E.PAGE_TOKEN_SECRET_ARN]: secrets.put(uniqueName('invocations-page-token'), randomBytes(32).toString('hex')),
  });
  api = loadHandler<HttpFn>(shippedBundle('functions/lambda-runtime-service/read-invocations.ts'));
});
afterAll(async () => {
  await secrets?.stop();
  t?.clients.ddb.destroy();
});

test('a RUNTIME_SETTINGS that is not JSON of every setting fails the cold start, naming the variable', () => {
  const saved = process.env[E.RUNTIME_SETTINGS];
  try {
    for (const bad of ['nope', JSON.stringify({ auditRetentionSeconds: 86_400 }), JSON.stringify({ ...DEFAULT_RUNTIME_SETTINGS, auditRetentionSeconds: 'long' })]) {
      process.env[E.RUNTIME_SETTINGS] = bad;
      expect(() => jest.isolateModules(() => loadHandler(shippedBundle('functions/lambda-runtime-service/read-invocations.ts'))))
        .toThrow(/Environment variable RUNTIME_SETTINGS must be JSON/);
    }
  } finally {
    process.env[E.RUNTIME_SETTINGS] = saved;
  }
});

describe('GET /v1.0/invocations/{id}', () => {
  test('200 with the audit record (no table keys) and the caller\'s correlation id', async () => {
    const [record] = await seed(fresh(), 1);
    const correlationId = `read-${randomUUID()}`;
    const res = await api({ ...byIdEvent(record.invocationId), headers: { 'x-correlation-id': correlationId } }, fakeContext());
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({ 'x-correlation-id': correlationId });
    expect(parse(res)).toMatchObject({ ...record });
    for (const key of ['PK', 'FN_PK', 'FN_SK', 'ttl']) expect(parse(res)).not.toHaveProperty(key);
  });

  test('404 INVOCATION_NOT_FOUND for an unknown id; 400 for a malformed one; 405 for another method', async () => {
    expectProblem(await api(byIdEvent(randomUUID()), fakeContext()), 404, LambdaRuntimeErrors.INVOCATION_NOT_FOUND);
    for (const bad of ['-starts-with-dash', 'has space', 'x'.repeat(65), 'semi;colon']) {
      expect(expectProblem(await api(byIdEvent(bad), fakeContext()), 400, 'BAD_REQUEST').message).toMatch(/'id'/);
    }
    expectProblem(await api(byIdEvent(randomUUID(), 'DELETE'), fakeContext()), 405);
  });
});

describe('GET /v1.0/functions/{name}/invocations', () => {
  test('newest first within the default range (the retention up to now), paged with signed tokens; other functions\' calls not included', async () => {
    const name = fresh();
    const records = await seed(name, 7);
    await seed(fresh(), 3);
    const ids: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const res = await api(listEvent(name, { limit: '3', ...(nextToken ? { nextToken } : {}) }), fakeContext());
      expect(res.statusCode).toBe(200);
      const body = parse(res);
      ids.push(...body.items.map((r: InvocationRecord) => r.invocationId));
      nextToken = body.nextToken;
      pages++;
    } while (nextToken && pages < 10);
    expect(ids).toEqual(records.map((r) => r.invocationId));
    expect(pages).toBeGreaterThanOrEqual(3);
  });

  test('an explicit range [from, to) holds exactly the calls started in it; offsets are read as instants', async () => {
    const name = fresh();
    // Newest 1 h ago, one per hour: indexes 0..9 started 1..10 h ago.
    const records = await seed(name, 10, { newestAgoMs: 3_600_000, stepMs: 3_600_000 });
    const from = records[6].startedAt;
    const to = records[2].startedAt; // exclusive
    const res = await api(listEvent(name, { from, to }), fakeContext());
    expect(res.statusCode).toBe(200);
    expect(parse(res).items.map((r: InvocationRecord) => r.invocationId)).toEqual(records.slice(3, 7).map((r) => r.invocationId));
    // The same instants written with a +02:00 offset, without milliseconds' trailing zeros.
    const offset = (iso: string) => {
      const d = new Date(Date.parse(iso) + 2 * 3_600_000).toISOString();
      return `${d.slice(0, 19)}.${d.slice(20, 23)}+02:00`;
    };
    const again = await api(listEvent(name, { from: offset(from), to: offset(to) }), fakeContext());
    expect(parse(again).items).toEqual(parse(res).items);
    // An empty window is an empty page, not an error.
    const empty = await api(listEvent(name, { from: new Date(Date.now() - 30 * 60_000).toISOString() }), fakeContext());
    expect(parse(empty)).toEqual({ items: [] });
  });

  test('400 for a bad range: from after to, not ISO, longer than the retention, a bad limit or parameter; invalid name', async () => {
    const name = fresh();
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    const bad: Array<Record<string, string>> = [
      { from: iso(now - DAY), to: iso(now - 2 * DAY) },
      { from: iso(now - DAY), to: iso(now - DAY) },
      { from: 'yesterday' },
      { from: '2026-11-29' },
      { to: '2026-11-29T08:00:00' },
      { from: '2026-02-30T08:00:00Z' },
      { from: iso(now - (RETENTION_DAYS + 1) * DAY), to: iso(now) },
      { from: iso(now - (RETENTION_DAYS + 1) * DAY) },
      { limit: '0' },
      { limit: '101' },
      { status: 'error' },
    ];
    for (const query of bad) expectProblem(await api(listEvent(name, query), fakeContext()), 400);
    expect(expectProblem(await api(listEvent(name, bad[0]), fakeContext()), 400).message).toMatch(/before/);
    expect(expectProblem(await api(listEvent(name, bad[6]), fakeContext()), 400).message).toMatch(/longer than the audit keeps/);
    // A day that does not exist in its month, inside the retention: refused for what it is, not rolled over.
    const d = new Date(now - DAY);
    const notADay = `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-32T00:00:00Z`;
    expect(expectProblem(await api(listEvent(name, { from: notADay }), fakeContext()), 400).message).toMatch(/'from': an ISO 8601/);
    expect(expectProblem(await api(listEvent(name, { to: '2026-02-30T08:00:00Z' }), fakeContext()), 400).message).toMatch(/'to': an ISO 8601/);
    expect(expectProblem(await api(listEvent('Not_A_Name'), fakeContext()), 400).message).toMatch(/path parameter 'name'/);
  });

  test('a tampered token, or one from another function or range, is 400', async () => {
    const name = fresh();
    await seed(name, 4);
    const first = parse(await api(listEvent(name, { limit: '2' }), fakeContext()));
    expect(first.nextToken).toEqual(expect.any(String));
    const [payload, mac] = first.nextToken.split('.');
    const value = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const edited = Buffer.from(JSON.stringify({ ...value, f: 'other-fn' })).toString('base64url');
    expectProblem(await api(listEvent('other-fn', { limit: '2', nextToken: `${edited}.${mac}` }), fakeContext()), 400, 'BAD_REQUEST');
    expectProblem(await api(listEvent(fresh(), { limit: '2', nextToken: first.nextToken }), fakeContext()), 400, 'BAD_REQUEST');
    const range = { from: new Date(Date.now() - DAY).toISOString(), limit: '2', nextToken: first.nextToken };
    expectProblem(await api(listEvent(name, range), fakeContext()), 400, 'BAD_REQUEST');
    expectProblem(await api(listEvent(name, { limit: '2', nextToken: 'abc.def' }), fakeContext()), 400, 'BAD_REQUEST');
    // The untouched token still works.
    expect((await api(listEvent(name, { limit: '2', nextToken: first.nextToken }), fakeContext())).statusCode).toBe(200);
  });
});
