import { randomBytes, randomUUID } from 'node:crypto';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { jobsTable, type JobsTable } from './jobs-table';
import { yazlZip } from './zip-corpus';
import { completeBuild, createJob, failBuild, markQueued, startBuild } from '../../functions/build-pipeline/job-store';
import {
  BuildPipelineEnv as E, CONTAINER_BUILDS_DISABLED, DEFAULT_BUILD_JOB_SETTINGS, DEFAULT_ZIP_LIMITS, DeliveryLogLayout,
} from '../../lib/build-pipeline/contract';
import { loadHandler, shippedBundle } from '../harness/bundle-handler';
import { apiEvent, configureHandlerEnv, createBucket, endpoints, fakeContext, uniqueName } from '../harness/local-aws';
import { postForm, startS3PostGate, type S3PostGate } from '../harness/local-s3-post-gate';
import { startLocalSecretsManager, type LocalSecretsManager } from '../harness/local-secrets-manager';

type HttpFn = (event: APIGatewayProxyEvent, context: unknown) => Promise<APIGatewayProxyResult>;
const MAX_UPLOAD_BYTES = 2048;
const CREATE = 'functions/build-pipeline/create-build.ts';
const READ = 'functions/build-pipeline/read-builds.ts';
const parse = (r: APIGatewayProxyResult) => (r.body ? JSON.parse(r.body) : undefined);

interface BuildsRequest {
  method?: string;
  jobId?: string;
  deliveries?: boolean;
  query?: Record<string, string>;
  body?: unknown;
  headers?: Record<string, string>;
}

/** An API Gateway REST proxy event for the builds resources. */
function buildsEvent(req: BuildsRequest): APIGatewayProxyEvent {
  const resource = req.jobId === undefined ? '/v1.0/builds' : `/v1.0/builds/{jobId}${req.deliveries ? '/deliveries' : ''}`;
  return {
    ...apiEvent({ method: req.method ?? 'GET', query: req.query, body: req.body, headers: req.headers }),
    resource,
    path: resource.replace('{jobId}', req.jobId ?? ''),
    pathParameters: req.jobId === undefined ? null : { jobId: req.jobId },
  };
}

/** Loads a bundle as a new container would (init runs again), with some variables changed for its init only. */
function loadFresh(entry: string, env: Record<string, string>): HttpFn {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    let handler: HttpFn | undefined;
    jest.isolateModules(() => { handler = loadHandler<HttpFn>(shippedBundle(entry)); });
    return handler!;
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]; else process.env[k] = v;
    }
  }
}

describe('BuildPipeline API: create-build and read-builds bundles on DynamoDB Local, fauxqs S3 behind the POST-policy gate', () => {
  let table: JobsTable;
  let gate: S3PostGate;
  let secrets: LocalSecretsManager;
  let createFn: HttpFn;
  let readFn: HttpFn;
  const bucket = uniqueName('uploads').toLowerCase();

  beforeAll(async () => {
    table = await jobsTable();
    await createBucket(table.clients.s3, bucket);
    gate = await startS3PostGate({ target: endpoints().fauxqs });
    secrets = await startLocalSecretsManager();
    configureHandlerEnv({
      // The create handler presigns for the gate; the form then goes through it to fauxqs.
      AWS_ENDPOINT_URL_S3: gate.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
      [E.JOBS_TABLE_NAME]: table.tableName,
      [E.UPLOADS_BUCKET_NAME]: bucket,
      [E.ZIP_LIMITS]: JSON.stringify({ ...DEFAULT_ZIP_LIMITS, maxUploadBytes: MAX_UPLOAD_BYTES }),
      [E.JOB_SETTINGS]: JSON.stringify(DEFAULT_BUILD_JOB_SETTINGS),
      [E.CONTAINER_BUILD_PROJECT]: CONTAINER_BUILDS_DISABLED,
      [E.PAGE_TOKEN_SECRET_ARN]: secrets.put(uniqueName('build-page-token'), randomBytes(32).toString('hex')),
    });
    createFn = loadHandler<HttpFn>(shippedBundle(CREATE));
    readFn = loadHandler<HttpFn>(shippedBundle(READ));
  });
  afterAll(async () => {
    await gate?.stop();
    await secrets?.stop();
  });

  const create = (body: unknown, headers: Record<string, string> = {}) =>
    createFn(buildsEvent({ method: 'POST', body, headers }), fakeContext('create-build'));
  const read = (req: BuildsRequest) => readFn(buildsEvent(req), fakeContext('read-builds'));
  const itemCount = async () => (await table.clients.doc.send(new ScanCommand({ TableName: table.tableName, Select: 'COUNT' }))).Count ?? 0;
  const uploaded = (key: string) => table.clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(() => true, () => false);
  const valid = { functionName: 'orders-api', runtime: 'nodejs24.x' };

  describe('POST /v1.0/builds', () => {
    test('202: the job awaiting its upload, the presigned POST, links and Location; the job keeps the correlation id', async () => {
      const correlationId = `create-${randomUUID()}`;
      const res = await create({ ...valid, handler: 'src/app.handler' }, { 'x-correlation-id': correlationId });
      expect(res.statusCode).toBe(202);
      const body = parse(res);
      expect(body).toEqual({
        jobId: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
        status: 'awaiting_upload',
        upload: { url: `${gate.endpoint}/${bucket}`, fields: expect.any(Object), expiresAt: expect.any(String) },
        links: { self: `/v1.0/builds/${body.jobId}` },
      });
      expect(res.headers).toMatchObject({ 'Location': `/v1.0/builds/${body.jobId}`, 'x-correlation-id': correlationId });
      expect(body.upload.fields).toMatchObject({ 'key': `uploads/${body.jobId}.zip`, 'Content-Type': 'application/zip' });
      const window = Date.parse(body.upload.expiresAt) - Date.now();
      expect(window).toBeGreaterThan((DEFAULT_BUILD_JOB_SETTINGS.uploadWindowSeconds - 30) * 1000);
      expect(window).toBeLessThanOrEqual(DEFAULT_BUILD_JOB_SETTINGS.uploadWindowSeconds * 1000);
      const item = await table.rawItem(`JOB#${body.jobId}`, 'JOB');
      expect(item).toMatchObject({ status: 'awaiting_upload', handler: 'src/app.handler', correlationId });
      // The presigned POST expires with the job's upload window (whole seconds, never after it).
      const lead = Date.parse(item!.uploadExpiresAt) - Date.parse(body.upload.expiresAt);
      expect(lead).toBeGreaterThanOrEqual(0);
      expect(lead).toBeLessThan(2000);
    });

    test('the presigned POST lets an archive under maxUploadBytes land at uploads/{jobId}.zip, and refuses a larger one', async () => {
      const small = await yazlZip([{ name: 'index.js', data: 'exports.handler = async () => 1;' }]);
      const big = await yazlZip([{ name: 'index.js', data: randomBytes(MAX_UPLOAD_BYTES), compress: false }]);
      expect(small.length).toBeLessThan(MAX_UPLOAD_BYTES);
      expect(big.length).toBeGreaterThan(MAX_UPLOAD_BYTES);

      const tooBig = parse(await create(valid));
      const refused = await postForm(tooBig.upload.url, tooBig.upload.fields, big);
      expect({ status: refused.status, code: refused.code }).toEqual({ status: 400, code: 'EntityTooLarge' });
      expect(await uploaded(`uploads/${tooBig.jobId}.zip`)).toBe(false);

      const ok = parse(await create(valid));
      const accepted = await postForm(ok.upload.url, ok.upload.fields, small);
      expect(accepted.status).toBe(204);
      expect(await uploaded(`uploads/${ok.jobId}.zip`)).toBe(true);
      // The form is for its own job's key only.
      const elsewhere = await postForm(ok.upload.url, { ...ok.upload.fields, key: `uploads/${tooBig.jobId}.zip` }, small);
      expect(elsewhere.code).toBe('AccessDenied');
      expect(await uploaded(`uploads/${tooBig.jobId}.zip`)).toBe(false);
    });

    test('Idempotency-Key: a replay answers the same job with a fresh POST while it waits, its status after; nothing new is written', async () => {
      const key = randomUUID();
      const first = await create(valid, { 'Idempotency-Key': key });
      const before = await itemCount();
      const again = await create(valid, { 'idempotency-key': key });
      expect(again.statusCode).toBe(202);
      expect(again.headers?.['Idempotent-Replayed']).toBe('true');
      expect(parse(again)).toMatchObject({ jobId: parse(first).jobId, status: 'awaiting_upload', upload: { fields: { key: `uploads/${parse(first).jobId}.zip` } } });
      expect(await itemCount()).toBe(before);
      // The replayed POST works (the first one may have been lost with its response).
      const small = await yazlZip([{ name: 'index.js', data: 'x' }]);
      expect((await postForm(parse(again).upload.url, parse(again).upload.fields, small)).status).toBe(204);

      expect((await markQueued(parse(first).jobId, table.services)).outcome).toBe('changed');
      const later = parse(await create(valid, { 'Idempotency-Key': key }));
      expect(later).toEqual({ jobId: parse(first).jobId, status: 'queued', links: { self: `/v1.0/builds/${parse(first).jobId}` } });
    });

    test('concurrent creates with one Idempotency-Key make one job; every caller gets it', async () => {
      const key = randomUUID();
      const before = await itemCount();
      const results = await Promise.all(Array.from({ length: 6 }, () => create(valid, { 'Idempotency-Key': key })));
      expect(results.map((r) => r.statusCode)).toEqual(Array(6).fill(202));
      expect(new Set(results.map((r) => parse(r).jobId)).size).toBe(1);
      expect(results.filter((r) => !r.headers?.['Idempotent-Replayed'])).toHaveLength(1);
      expect(await itemCount()).toBe(before + 2); // the job and its key item
    });

    test('Idempotency-Key reused with another body → 422 problem, nothing written', async () => {
      const key = randomUUID();
      expect((await create(valid, { 'Idempotency-Key': key })).statusCode).toBe(202);
      const before = await itemCount();
      const res = await create({ ...valid, runtime: 'python3.13' }, { 'Idempotency-Key': key, 'x-correlation-id': 'reuse-1' });
      expect(res.statusCode).toBe(422);
      expect(parse(res).error).toEqual({ code: 'IDEMPOTENCY_KEY_REUSED', message: expect.stringContaining('Idempotency-Key'), correlationId: 'reuse-1' });
      expect(await itemCount()).toBe(before);
    });

    test('runtime container on a pipeline without container builds → 422 naming it, nothing written; enabled, it is created', async () => {
      const before = await itemCount();
      const res = await create({ ...valid, runtime: 'container' }, { 'x-correlation-id': 'container-1' });
      expect(res.statusCode).toBe(422);
      expect(parse(res).error).toMatchObject({ code: 'CONTAINER_BUILDS_DISABLED', correlationId: 'container-1' });
      expect(parse(res).error.message).toMatch(/Container builds are not enabled on this pipeline/);
      expect(await itemCount()).toBe(before);

      const enabled = loadFresh(CREATE, { [E.CONTAINER_BUILD_PROJECT]: 'container-builds-project' });
      const ok = await enabled(buildsEvent({ method: 'POST', body: { ...valid, runtime: 'container' } }), fakeContext('create-build'));
      expect(ok.statusCode).toBe(202);
      expect((await table.rawItem(`JOB#${parse(ok).jobId}`, 'JOB'))?.handler).toBe('Dockerfile');
    });

    const bad: Array<[string, unknown, Record<string, string>, number, RegExp]> = [
      ['no body', undefined, {}, 400, /body is required/],
      ['not JSON', '{"functionName": "a",', {}, 400, /not valid JSON/],
      ['a JSON array', [valid], {}, 400, /expected object/],
      ['JSON null', 'null', {}, 400, /expected object/],
      ['a body over 16 KB', { ...valid, handler: 'x'.repeat(20_000) }, {}, 413, /exceeds/],
      ['no functionName', { runtime: 'nodejs24.x' }, {}, 400, /'functionName'/],
      ['no runtime', { functionName: 'a' }, {}, 400, /'runtime'/],
      ['an unknown field', { ...valid, memory: 512 }, {}, 400, /unknown field\(s\) 'memory'/],
      ['a prototype key', JSON.parse('{"functionName":"a","runtime":"nodejs24.x","__proto__":{"x":1}}'), {}, 400, /unknown field/],
      ['a runtime nobody runs', { ...valid, runtime: 'nodejs8.10' }, {}, 400, /'runtime': must be one of/],
      ['an inherited runtime name', { ...valid, runtime: 'constructor' }, {}, 400, /'runtime'/],
      ['a numeric functionName', { ...valid, functionName: 42 }, {}, 400, /'functionName': expected string/],
      ['a functionName with a slash', { ...valid, functionName: '../etc' }, {}, 400, /functionName/],
      ['a functionName of 65 characters', { ...valid, functionName: 'a'.repeat(65) }, {}, 400, /functionName/],
      ['a handler without a function', { ...valid, handler: 'index' }, {}, 400, /handler/],
      ['a handler with a space', { ...valid, handler: 'src/my app.handler' }, {}, 400, /handler/],
      ['an http webhook', { ...valid, webhookUrl: 'http://hooks.example.com/build' }, {}, 400, /webhookUrl/],
      ['a webhook that is no URL', { ...valid, webhookUrl: 'hooks.example.com' }, {}, 400, /webhookUrl/],
      ['a webhook over 2048 characters', { ...valid, webhookUrl: `https://example.com/${'a'.repeat(2100)}` }, {}, 400, /webhookUrl/],
      ['an empty Idempotency-Key', valid, { 'Idempotency-Key': '' }, 400, /Idempotency-Key/],
      ['an Idempotency-Key of 256 characters', valid, { 'Idempotency-Key': 'k'.repeat(256) }, 400, /Idempotency-Key/],
    ];
    test.each(bad)('%s → %#: 4xx problem with the correlation id, nothing written', async (_what, body, headers, status, message) => {
      const before = await itemCount();
      const correlationId = `bad-${randomUUID()}`;
      const res = await create(body, { ...headers, 'x-correlation-id': correlationId });
      expect(res.statusCode).toBe(status);
      const problem = parse(res).error;
      expect(problem.correlationId).toBe(correlationId);
      expect(problem.message).toMatch(message);
      expect(problem.message).not.toMatch(/at \w+ \(|node_modules/);
      expect(await itemCount()).toBe(before);
    });

    test('another method → 405', async () => {
      const res = await createFn(buildsEvent({ method: 'PUT', body: valid }), fakeContext('create-build'));
      expect(res.statusCode).toBe(405);
    });

    test('a bad settings variable fails the cold start naming it', () => {
      expect(() => loadFresh(CREATE, { [E.ZIP_LIMITS]: JSON.stringify({ ...DEFAULT_ZIP_LIMITS, maxUploadBytes: -1 }) }))
        .toThrow(/BUILD_ZIP_LIMITS field 'maxUploadBytes'/);
      expect(() => loadFresh(CREATE, { [E.JOB_SETTINGS]: '{"uploadWindowSeconds":900}' }))
        .toThrow(/BUILD_JOB_SETTINGS field/);
    });
  });

  describe('GET /v1.0/builds/{jobId}', () => {
    test('a waiting job: its view with uploadExpiresAt, the webhook as its origin only, no internals', async () => {
      const webhookUrl = 'https://hooks.example.com/builds?token=s3cr3t';
      const { jobId } = parse(await create({ ...valid, webhookUrl }, { 'Idempotency-Key': randomUUID() }));
      const res = await read({ jobId });
      expect(res.statusCode).toBe(200);
      const view = parse(res);
      expect(view).toEqual({
        jobId,
        functionName: 'orders-api',
        runtime: 'nodejs24.x',
        handler: 'index.handler',
        status: 'awaiting_upload',
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
        uploadExpiresAt: expect.any(String),
        webhookOrigin: 'https://hooks.example.com',
      });
      expect(res.body).not.toContain('s3cr3t');
      // Credentials in the URL's userinfo stay out too.
      const { jobId: other } = parse(await create({ ...valid, webhookUrl: 'https://ci:p4ss@hooks.example.com:8443/x' }));
      const otherView = await read({ jobId: other });
      expect(parse(otherView).webhookOrigin).toBe('https://hooks.example.com:8443');
      expect(otherView.body).not.toContain('p4ss');
    });

    test('a completed job: artifact and attempts, no lease; a failed one: reason and message', async () => {
      const { job } = await createJob({ functionName: 'views', runtime: 'python3.13' }, table.services);
      await markQueued(job.jobId, table.services);
      await startBuild(job.jobId, 'worker-1', table.services);
      const artifact = { bucket: 'artifacts', key: `builds/${job.jobId}/artifact.zip`, manifestKey: `builds/${job.jobId}/manifest.json`, sha256: 'ab'.repeat(32), size: 10, fileCount: 1 };
      await completeBuild(job.jobId, 'worker-1', artifact, table.services);
      const done = parse(await read({ jobId: job.jobId }));
      expect(done).toMatchObject({ status: 'completed', artifact, attempts: 1, queuedAt: expect.any(String), startedAt: expect.any(String), finishedAt: expect.any(String) });
      for (const internal of ['uploadExpiresAt', 'leaseOwner', 'leaseExpiresAt', 'version', 'correlationId', 'PK', 'FN_PK', 'AW_PK', 'ttl', 'webhookUrl']) {
        expect(done).not.toHaveProperty(internal);
      }

      const { job: other } = await createJob({ functionName: 'views', runtime: 'python3.13' }, table.services);
      await markQueued(other.jobId, table.services);
      await startBuild(other.jobId, 'worker-2', table.services);
      await failBuild(other.jobId, 'worker-2', { reason: 'NOT_A_ZIP', message: 'The upload is not a ZIP archive' }, table.services);
      expect(parse(await read({ jobId: other.jobId }))).toMatchObject({ status: 'failed', failureReason: 'NOT_A_ZIP', failureMessage: 'The upload is not a ZIP archive' });
    });

    test('absent → 404; not a job id → 400; both with the correlation id', async () => {
      const missing = await read({ jobId: randomUUID(), headers: { 'x-correlation-id': 'get-404' } });
      expect(missing.statusCode).toBe(404);
      expect(parse(missing).error).toMatchObject({ code: 'NOT_FOUND', correlationId: 'get-404' });
      for (const jobId of ['../x', 'a/b', '-x', 'x'.repeat(65), '', 'JOB#1']) {
        const res = await read({ jobId, headers: { 'x-correlation-id': 'get-400' } });
        expect(res.statusCode).toBe(400);
        expect(parse(res).error.correlationId).toBe('get-400');
      }
    });
  });

  describe('GET /v1.0/builds?functionName=', () => {
    const fn = uniqueName('lister').replace(/-/g, '_');
    const ids: string[] = [];
    beforeAll(async () => {
      // Created a minute apart on the store's clock: the order is certain.
      for (let i = 0; i < 5; i++) {
        ids.push((await createJob({ functionName: fn, runtime: 'nodejs22.x' }, table.services)).job.jobId);
        table.advance(60);
      }
    });

    async function listAll(limit: string) {
      const items: any[] = [];
      let nextToken: string | undefined;
      let pages = 0;
      do {
        const res = await read({ query: { functionName: fn, limit, ...(nextToken ? { nextToken } : {}) } });
        expect(res.statusCode).toBe(200);
        const body = parse(res);
        items.push(...body.items);
        nextToken = body.nextToken;
        pages++;
      } while (nextToken && pages < 10);
      return { items, pages };
    }

    test('newest first, paged with signed tokens; items are job views; the secret is read once', async () => {
      const readsBefore = secrets.reads();
      const { items, pages } = await listAll('2');
      expect(pages).toBe(3);
      expect(items.map((j) => j.jobId)).toEqual([...ids].reverse());
      expect(items[0]).not.toHaveProperty('FN_SK');
      expect(items[0]).toHaveProperty('uploadExpiresAt');
      expect(secrets.reads() - readsBefore).toBeLessThanOrEqual(1);
      const all = parse(await read({ query: { functionName: fn } }));
      expect(all.items).toHaveLength(5);
      expect(all).not.toHaveProperty('nextToken');
    });

    test('a tampered, unsigned, foreign or other-function token → 400', async () => {
      const first = parse(await read({ query: { functionName: fn, limit: '2' } }));
      const token: string = first.nextToken;
      const [payload, mac] = token.split('.');
      const value = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      const reSigned = (v: unknown) => `${Buffer.from(JSON.stringify(v)).toString('base64url')}.${mac}`;
      const expect400 = async (nextToken: string, functionName = fn) => {
        const res = await read({ query: { functionName, limit: '2', nextToken }, headers: { 'x-correlation-id': 'token-400' } });
        expect(res.statusCode).toBe(400);
        expect(parse(res).error).toMatchObject({ correlationId: 'token-400', message: expect.stringContaining('nextToken') });
      };
      await expect400(token, 'another_function');
      await expect400(reSigned({ ...value, f: 'another_function' }), 'another_function');
      await expect400(value.t); // the job store's own, unsigned token
      await expect400(`${payload}.${mac.slice(0, -2)}AA`);
      await expect400(token.slice(0, -1));
      await expect400('not-a-token');
      // A genuine ProductApi-style token under another label (same secret) does not verify here.
      await expect400(reSigned({ k: { PK: 'PRODUCT#1' }, f: fn }));
      // The genuine one still pages on.
      expect(parse(await read({ query: { functionName: fn, limit: '2', nextToken: token } })).items.map((j: any) => j.jobId)).toEqual([ids[2], ids[1]]);
    });

    test.each([
      [{}, /'functionName'/],
      [{ functionName: fn, limit: '0' }, /limit/],
      [{ functionName: fn, limit: '101' }, /limit/],
      [{ functionName: fn, limit: 'ten' }, /limit/],
      [{ functionName: fn, status: 'failed' }, /unknown field/],
      [{ functionName: '../x' }, /functionName/],
    ])('query %j → 400', async (query, message) => {
      const res = await read({ query: query as Record<string, string> });
      expect(res.statusCode).toBe(400);
      expect(parse(res).error.message).toMatch(message);
    });
  });

  describe('GET /v1.0/builds/{jobId}/deliveries', () => {
    test('the job\'s delivery items (contract fields only), none for a job without any, 404 for no job', async () => {
      const { job } = await createJob({ functionName: 'hooks', runtime: 'nodejs24.x', webhookUrl: 'https://example.com/h' }, table.services);
      const { job: quiet } = await createJob({ functionName: 'hooks', runtime: 'nodejs24.x' }, table.services);
      const entry = {
        eventId: randomUUID(),
        eventType: 'BuildQueued',
        state: 'delivered',
        attempts: [
          { at: '2026-11-29T08:00:01.000Z', statusCode: 503, outcome: 'retry', durationMs: 40, error: 'Service Unavailable' },
          { at: '2026-11-29T08:00:06.000Z', statusCode: 200, outcome: 'delivered', durationMs: 35 },
        ],
        updatedAt: '2026-11-29T08:00:06.000Z',
      };
      const put = (jobId: string, e: typeof entry) => table.clients.doc.send(new PutCommand({
        TableName: table.tableName,
        Item: { PK: `JOB#${jobId}`, SK: DeliveryLogLayout.sortKey(e.eventId), ...e, rev: 2, attemptCount: 2, ttl: 1 + Math.floor(Date.now() / 1000) + 3600 },
      }));
      await put(job.jobId, entry);
      const second = { ...entry, eventId: randomUUID(), eventType: 'BuildStarted', state: 'retrying', attempts: [entry.attempts[0]] };
      await put(job.jobId, second);

      const res = await read({ jobId: job.jobId, deliveries: true });
      expect(res.statusCode).toBe(200);
      const { items } = parse(res);
      expect(items).toHaveLength(2);
      expect(items).toEqual(expect.arrayContaining([entry, second]));
      expect(items[0]).not.toHaveProperty('rev');
      expect(items[0]).not.toHaveProperty('PK');

      expect(parse(await read({ jobId: quiet.jobId, deliveries: true }))).toEqual({ items: [] });
      const missing = await read({ jobId: randomUUID(), deliveries: true });
      expect(missing.statusCode).toBe(404);
      expect((await read({ jobId: '..', deliveries: true })).statusCode).toBe(400);
    });
  });
});
