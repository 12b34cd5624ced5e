import { randomBytes, randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { runtimeTables, type RuntimeTables } from './runtime-tables';
import { markPurged } from '../../functions/lambda-runtime-service/registry-store';
import { DEFAULT_FUNCTION_LIMITS, LambdaRuntimeEnv as E, LambdaRuntimeErrors } from '../../lib/lambda-runtime-service/contract';
import { loadHandler, shippedBundle } from '../harness/bundle-handler';
import { apiEvent, configureHandlerEnv, fakeContext, uniqueName } from '../harness/local-aws';
import { startLocalSecretsManager, type LocalSecretsManager } from '../harness/local-secrets-manager';

/**
 * The registry API's shipped bundle driven with API Gateway REST proxy events against DynamoDB
 * Local (the registry table) and the local Secrets Manager (the page token key).
 */
jest.setTimeout(60_000);

type HttpFn = (event: APIGatewayProxyEvent, context: unknown) => Promise<APIGatewayProxyResult>;
const parse = (r: APIGatewayProxyResult) => (r.body ? JSON.parse(r.body) : undefined);

interface Request {
  method: string;
  name?: string;
  query?: Record<string, string>;
  body?: unknown;
  headers?: Record<string, string>;
}

function registryEvent(req: Request): APIGatewayProxyEvent {
  const resource = req.name === undefined ? '/v1.0/functions' : '/v1.0/functions/{name}';
  return {
    ...apiEvent({ method: req.method, query: req.query, body: req.body, headers: req.headers }),
    resource,
    path: resource.replace('{name}', req.name ?? ''),
    pathParameters: req.name === undefined ? null : { name: req.name },
  };
}

let t: RuntimeTables;
let secrets: LocalSecretsManager;
let api: HttpFn;
let seq = 0;
// One registry table per file: listings count only what this file registers.
const fresh = (prefix = 'fn') => `${prefix}-${++seq}-${randomUUID().slice(0, 6)}`;
const call = (req: Request) => api(registryEvent(req), fakeContext('registry-api'));
const register = (body: unknown, headers: Record<string, string> = {}) => call({ method: 'POST', body, headers });
const expectProblem = (res: APIGatewayProxyResult, status: number, code?: string) => {
  expect(res.statusCode).toBe(status);
  const body = parse(res);
  expect(body.error).toMatchObject({ message: expect.any(String), correlationId: res.headers!['x-correlation-id'] });
  if (code) expect(body.error.code).toBe(code);
  return body.error as { code: string; message: string };
};

beforeAll(async () => {
  t = await runtimeTables();
  secrets = await startLocalSecretsManager();
  configureHandlerEnv({
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
    [E.REGISTRY_TABLE_NAME]: t.registryTable,
    [E.FUNCTION_LIMITS]: JSON.stringify(DEFAULT_FUNCTION_LIMITS),
    [E.PAGE_TOKEN_SECRET_ARN]: secrets.put(uniqueName('functions-page-token'), randomBytes(32).toString('hex')),
  });
  api = loadHandler<HttpFn>(shippedBundle('functions/lambda-runtime-service/registry-api.ts'));
});
afterAll(async () => {
  await secrets?.stop();
  t?.clients.ddb.destroy();
});

describe('POST /v1.0/functions', () => {
  test('201 with the record (defaults filled in), Location, ETag "1" and the caller\'s correlation id', async () => {
    const name = fresh();
    const correlationId = `reg-${randomUUID()}`;
    const res = await register({ name, runtime: 'nodejs24.x', environment: { GREETING: 'hej' } }, { 'x-correlation-id': correlationId });
    expect(res.statusCode).toBe(201);
    expect(res.headers).toMatchObject({ 'Location': `/v1.0/functions/${name}`, 'ETag': '"1"', 'x-correlation-id': correlationId });
    expect(parse(res)).toMatchObject({
      name,
      runtime: 'nodejs24.x',
      handler: 'index.handler',
      memoryMb: 128,
      timeoutSeconds: 3,
      environment: { GREETING: 'hej' },
      rateLimit: { requestsPerSecond: 10, burst: 20 },
      schedules: [],
      version: 1,
      deployment: { strategy: 'all-at-once' },
    });
    // Table keys never leave the API.
    expect(parse(res)).not.toHaveProperty('PK');
    expect(parse(res)).not.toHaveProperty('LIST_PK');
  });

  test('400 for invalid configuration, with the field named; nothing written', async () => {
    const name = fresh();
    expect(expectProblem(await register({ name, runtime: 'cobol' }), 400, 'VALIDATION_FAILED').message).toMatch(/runtime/);
    expect(expectProblem(await register({ name, runtime: 'nodejs24.x', memoryMb: 99_999 }), 400).message).toMatch(/memoryMb/);
    expect(expectProblem(await register({ name, runtime: 'nodejs24.x', colour: 'red' }), 400).message).toMatch(/colour/);
    expect(expectProblem(await register({ name: 'Not_A_Name', runtime: 'nodejs24.x' }), 400).message).toMatch(/name/);
    expectProblem(await register([name]), 400);
    expect(await t.rawRegistryItem(`FUNCTION#${name}`, 'META')).toBeUndefined();
  });

  test('415 for a non-JSON content type, 400 for a body that is not JSON or missing', async () => {
    const name = fresh();
    expectProblem(await register(`name=${name}`, { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectProblem(await register('{"name": ', {}), 400, 'BAD_REQUEST');
    expectProblem(await call({ method: 'POST' }), 400, 'BAD_REQUEST');
    // JSON with a charset parameter or a +json type is JSON.
    const ok = await register({ name, runtime: 'python3.13' }, { 'content-type': 'application/json; charset=utf-8' });
    expect(ok.statusCode).toBe(201);
  });

  test('409 FUNCTION_EXISTS for a live name; 409 FUNCTION_BEING_DELETED until the purge is done; then registrable again', async () => {
    const name = fresh();
    expect((await register({ name, runtime: 'nodejs24.x' })).statusCode).toBe(201);
    expectProblem(await register({ name, runtime: 'nodejs22.x' }), 409, LambdaRuntimeErrors.FUNCTION_EXISTS);
    expect((await call({ method: 'DELETE', name })).statusCode).toBe(202);
    expectProblem(await register({ name, runtime: 'nodejs22.x' }), 409, LambdaRuntimeErrors.FUNCTION_BEING_DELETED);
    expect(await markPurged(name, t.registry)).toBe(true);
    const again = await register({ name, runtime: 'nodejs22.x' });
    expect(again.statusCode).toBe(201);
    expect(parse(again)).toMatchObject({ runtime: 'nodejs22.x', version: 1, buildsNotBefore: expect.any(String) });
  });

  test('405 for a method the collection does not have', async () => {
    expectProblem(await call({ method: 'PUT' }), 405, 'METHOD_NOT_ALLOWED');
    expectProblem(await call({ method: 'POST', name: fresh() }), 405, 'METHOD_NOT_ALLOWED');
  });
});

describe('cold start', () => {
  test('a FUNCTION_LIMITS that is not JSON of every limit fails the cold start, naming the variable', () => {
    const saved = process.env[E.FUNCTION_LIMITS];
    try {
      for (const bad of ['{', '[]', JSON.stringify({ ...DEFAULT_FUNCTION_LIMITS, maxBurst: -1 }), JSON.stringify({ maxMemoryMb: 512 })]) {
        process.env[E.FUNCTION_LIMITS] = bad;
        expect(() => jest.isolateModules(() => loadHandler(shippedBundle('functions/lambda-runtime-service/registry-api.ts'))))
          .toThrow(/Environment variable FUNCTION_LIMITS must be JSON/);
      }
      // The construct allows no schedules and a fractional rate.
      process.env[E.FUNCTION_LIMITS] = JSON.stringify({ ...DEFAULT_FUNCTION_LIMITS, maxSchedules: 0, maxRequestsPerSecond: 0.5 });
      expect(() => jest.isolateModules(() => loadHandler(shippedBundle('functions/lambda-runtime-service/registry-api.ts')))).not.toThrow();
    } finally {
      process.env[E.FUNCTION_LIMITS] = saved;
    }
  });
});

describe('GET /v1.0/functions/{name}', () => {
  test('200 with the record and its ETag; 404 FUNCTION_NOT_FOUND for an unknown name', async () => {
    const name = fresh();
    const created = parse(await register({ name, runtime: 'nodejs24.x' }));
    const res = await call({ method: 'GET', name });
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({ ETag: '"1"' });
    expect(parse(res)).toEqual(created);
    expectProblem(await call({ method: 'GET', name: fresh('absent') }), 404, LambdaRuntimeErrors.FUNCTION_NOT_FOUND);
  });

  test('400 for a name that cannot be registered, before any read (a deleted table would make a read fail 500)', async () => {
    for (const bad of ['UPPER', '-dash', 'a'.repeat(41), 'semi;colon', '']) {
      expect(expectProblem(await call({ method: 'GET', name: bad }), 400).message).toMatch(/path parameter 'name'/);
    }
    // The same handler against a table that does not exist: a valid name fails 500, an invalid one is still a 400.
    const saved = process.env[E.REGISTRY_TABLE_NAME];
    process.env[E.REGISTRY_TABLE_NAME] = 'no-such-table';
    let isolated: HttpFn | undefined;
    jest.isolateModules(() => { isolated = loadHandler<HttpFn>(shippedBundle('functions/lambda-runtime-service/registry-api.ts')); });
    process.env[E.REGISTRY_TABLE_NAME] = saved;
    expect((await isolated!(registryEvent({ method: 'GET', name: 'UPPER' }), fakeContext())).statusCode).toBe(400);
    expect((await isolated!(registryEvent({ method: 'GET', name: 'valid-name' }), fakeContext())).statusCode).toBe(500);
  });
});

describe('PATCH /v1.0/functions/{name}', () => {
  test('200 with the new version and ETag; the change is stored', async () => {
    const name = fresh();
    await register({ name, runtime: 'nodejs24.x' });
    const res = await call({ method: 'PATCH', name, body: { memoryMb: 256, environment: { A_B: '1' } }, headers: { 'If-Match': '"1"' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({ ETag: '"2"' });
    expect(parse(res)).toMatchObject({ name, memoryMb: 256, environment: { A_B: '1' }, version: 2 });
    expect(parse(await call({ method: 'GET', name }))).toMatchObject({ memoryMb: 256, version: 2 });
  });

  test('428 without If-Match (saying what to send); 412 VERSION_MISMATCH for a stale one; 400 for a malformed one; 404 when absent', async () => {
    const name = fresh();
    await register({ name, runtime: 'nodejs24.x' });
    expect(expectProblem(await call({ method: 'PATCH', name, body: { memoryMb: 256 } }), 428, 'PRECONDITION_REQUIRED').message).toMatch(/If-Match/);
    expectProblem(await call({ method: 'PATCH', name, body: { memoryMb: 256 }, headers: { 'if-match': '"7"' } }), 412, LambdaRuntimeErrors.VERSION_MISMATCH);
    for (const bad of ['*', 'W/"1"', '1', '"1", "2"', '"abc"']) {
      expectProblem(await call({ method: 'PATCH', name, body: { memoryMb: 256 }, headers: { 'if-match': bad } }), 400);
    }
    expectProblem(await call({ method: 'PATCH', name: fresh('absent'), body: { memoryMb: 256 }, headers: { 'if-match': '"1"' } }), 404, LambdaRuntimeErrors.FUNCTION_NOT_FOUND);
    // A bad patch: 400, and the version does not move.
    expectProblem(await call({ method: 'PATCH', name, body: { memoryMb: 1 }, headers: { 'if-match': '"1"' } }), 400, 'VALIDATION_FAILED');
    expectProblem(await call({ method: 'PATCH', name, body: { name: 'other' }, headers: { 'if-match': '"1"' } }), 400, 'VALIDATION_FAILED');
    expectProblem(await call({ method: 'PATCH', name, body: 'x', headers: { 'if-match': '"1"', 'content-type': 'text/plain' } }), 415);
    expect(parse(await call({ method: 'GET', name })).version).toBe(1);
  });

  test('10 concurrent PATCHes at one version: exactly one 200, nine 412; the stored record is the winner\'s', async () => {
    const name = fresh();
    await register({ name, runtime: 'nodejs24.x' });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) =>
      call({ method: 'PATCH', name, body: { environment: { WRITER: String(i) } }, headers: { 'If-Match': '"1"' } })));
    const statuses = results.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 412)).toHaveLength(9);
    const winner = parse(results[statuses.indexOf(200)]);
    const stored = parse(await call({ method: 'GET', name }));
    expect(stored).toMatchObject({ version: 2, environment: winner.environment });
  });
});

describe('DELETE /v1.0/functions/{name}', () => {
  test('202 with the tombstone; then GET and a second DELETE are 404; it leaves the listing', async () => {
    const name = fresh();
    await register({ name, runtime: 'nodejs24.x' });
    const res = await call({ method: 'DELETE', name });
    expect(res.statusCode).toBe(202);
    expect(parse(res)).toMatchObject({ name, version: 2, deletedAt: expect.any(String) });
    expect(parse(res)).not.toHaveProperty('purgedAt');
    expectProblem(await call({ method: 'GET', name }), 404, LambdaRuntimeErrors.FUNCTION_NOT_FOUND);
    expectProblem(await call({ method: 'DELETE', name }), 404, LambdaRuntimeErrors.FUNCTION_NOT_FOUND);
    expect((await t.rawRegistryItem(`FUNCTION#${name}`, 'META'))!.LIST_PK).toBeUndefined();
  });

  test('with If-Match: a stale version is 412 and deletes nothing; the current one deletes', async () => {
    const name = fresh();
    await register({ name, runtime: 'nodejs24.x' });
    await call({ method: 'PATCH', name, body: { memoryMb: 256 }, headers: { 'If-Match': '"1"' } });
    expectProblem(await call({ method: 'DELETE', name, headers: { 'If-Match': '"1"' } }), 412, LambdaRuntimeErrors.VERSION_MISMATCH);
    expect((await call({ method: 'GET', name })).statusCode).toBe(200);
    expect((await call({ method: 'DELETE', name, headers: { 'If-Match': '"2"' } })).statusCode).toBe(202);
  });
});

describe('GET /v1.0/functions (listing, signed page tokens)', () => {
  // A table of its own: the listing holds exactly these functions.
  let listed: string[];
  let listApi: HttpFn;
  let lt: RuntimeTables;
  const list = (query: Record<string, string> = {}) => listApi(registryEvent({ method: 'GET', query }), fakeContext('registry-api'));

  beforeAll(async () => {
    lt = await runtimeTables();
    const saved = process.env[E.REGISTRY_TABLE_NAME];
    process.env[E.REGISTRY_TABLE_NAME] = lt.registryTable;
    jest.isolateModules(() => { listApi = loadHandler<HttpFn>(shippedBundle('functions/lambda-runtime-service/registry-api.ts')); });
    process.env[E.REGISTRY_TABLE_NAME] = saved;
    // Registered in a shuffled order, one at a time, so `newest` differs from `name`.
    listed = ['delta', 'alpha', 'echo', 'charlie', 'bravo', 'golf', 'foxtrot'].map((n) => `${n}-${randomUUID().slice(0, 4)}`);
    for (const name of listed) {
      const res = await listApi(registryEvent({ method: 'POST', body: { name, runtime: 'nodejs24.x' } }), fakeContext());
      expect(res.statusCode).toBe(201);
      await new Promise((r) => setTimeout(r, 5)); // distinct registeredAt milliseconds
    }
    // A deleted function drops out of the listing.
    await listApi(registryEvent({ method: 'DELETE', name: listed[0] }), fakeContext());
  });
  afterAll(() => lt?.clients.ddb.destroy());

  async function pageThrough(query: Record<string, string>): Promise<{ names: string[]; pages: number }> {
    const names: string[] = [];
    let pages = 0;
    let nextToken: string | undefined;
    do {
      const res = await list({ ...query, ...(nextToken ? { nextToken } : {}) });
      expect(res.statusCode).toBe(200);
      const body = parse(res);
      names.push(...body.items.map((f: { name: string }) => f.name));
      nextToken = body.nextToken;
      pages++;
    } while (nextToken && pages < 20);
    return { names, pages };
  }

  test('by name (the default), 2 per page: every live function once, A→Z, over several pages', async () => {
    const { names, pages } = await pageThrough({ limit: '2' });
    expect(names).toEqual(listed.slice(1).sort());
    expect(pages).toBeGreaterThanOrEqual(3);
  });

  test('newest first, 3 per page', async () => {
    const { names, pages } = await pageThrough({ order: 'newest', limit: '3' });
    expect(names).toEqual(listed.slice(1).reverse());
    expect(pages).toBeGreaterThanOrEqual(2);
  });

  test('a tampered token, an invented one, or one from the other order is 400', async () => {
    const first = parse(await list({ limit: '2' }));
    expect(first.nextToken).toEqual(expect.any(String));
    const [payload, mac] = first.nextToken.split('.');
    const edited = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), t: 'e30' })).toString('base64url');
    expectProblem(await list({ limit: '2', nextToken: `${edited}.${mac}` }), 400, 'BAD_REQUEST');
    expectProblem(await list({ limit: '2', nextToken: `${payload}.${mac.slice(0, -2)}AA` }), 400, 'BAD_REQUEST');
    expectProblem(await list({ limit: '2', nextToken: 'not-a-token' }), 400, 'BAD_REQUEST');
    expectProblem(await list({ order: 'newest', limit: '2', nextToken: first.nextToken }), 400, 'BAD_REQUEST');
  });

  test('400 for a bad limit, order or an unknown query parameter', async () => {
    const bad: Array<Record<string, string>> = [{ limit: '0' }, { limit: '101' }, { limit: 'ten' }, { order: 'oldest' }, { colour: 'red' }];
    for (const query of bad) {
      expectProblem(await list(query), 400);
    }
  });
});
