import * as http from 'node:http';
import * as net from 'node:net';
import { Webhook } from 'standardwebhooks';
import { jobsTable, type JobsTable } from './jobs-table';
import {
  buildEventMessage, deliveryQueue, loadDeliverer, logItem, putJob, stubResolver, TEST_WEBHOOK_SETTINGS,
} from './webhook-delivery-fixture';
import { createJob } from '../../functions/build-pipeline/job-store';
import { readDeliveryLog, recordDelivery } from '../../functions/build-pipeline/webhook-delivery-log';
import { checkWebhookUrl } from '../../functions/shared/outbound-webhook/ssrf-guard';
import { generateSigningSecret } from '../../functions/shared/outbound-webhook/standard-webhooks-signer';
import { BuildEvents, DELIVERY_LOG_MAX_ATTEMPTS } from '../../lib/build-pipeline/contract';
import { receive } from '../harness/local-aws';
import { startVersionedSecretsManager, type VersionedSecretsManager } from '../harness/local-versioned-secrets-manager';
import { hasOpenssl, Receiver, selfSignedCertificate, startReceiver } from '../shared/outbound-webhook/receiver';

/*
 * The shipped deliver-webhooks bundle, driven as Lambda's SQS event source would drive it:
 * messages on a fauxqs queue (with its DLQ), jobs and delivery logs on DynamoDB Local, the
 * signing secret from a local Secrets Manager, an HTTPS receiver on 127.0.0.1 named
 * receiver.example by a stub resolver. Only the guard's test options let 127.0.0.1 through;
 * the SSRF cases run the production guard (a stub resolver at most).
 */
const HOST = 'receiver.example';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const describeTls = hasOpenssl() ? describe : describe.skip;

describeTls('deliver-webhooks (shipped bundle)', () => {
  let table: JobsTable;
  let sm: VersionedSecretsManager;
  let receiver: Receiver;
  let base: string;
  let secretArn: string;
  let tls: { key: string; cert: string };
  const secret = generateSigningSecret();
  const hanging: http.ServerResponse[] = [];
  let hooks: { guard: { allowAddress: (ip: string) => boolean; resolve: ReturnType<typeof stubResolver>['resolve']; ca: string } };
  let mod: ReturnType<typeof loadDeliverer>;

  beforeAll(async () => {
    table = await jobsTable();
    sm = await startVersionedSecretsManager();
    secretArn = sm.create(uniqueSecretName(), JSON.stringify({ current: secret }));
    tls = selfSignedCertificate(HOST);
    receiver = await startReceiver({
      '/ok': (_req, res) => res.writeHead(200).end('thanks'),
      '/fail': (_req, res) => res.writeHead(503).end('down'),
      '/gone': (_req, res) => res.writeHead(410).end('unsubscribed'),
      '/bad': (_req, res) => res.writeHead(400).end('no'),
      '/redirect': (_req, res) => res.writeHead(302, { location: `https://${HOST}:${receiver.port}/ok` }).end(),
      '/hang': (_req, res) => { hanging.push(res); },
      '/new-secret-only': (req, res, body) => {
        try {
          new Webhook(rotatedSecret).verify(body, req.headers as Record<string, string>);
          res.writeHead(204).end();
        } catch {
          res.writeHead(401).end('bad signature');
        }
      },
    }, tls);
    base = `https://${HOST}:${receiver.port}`;
    hooks = { guard: { allowAddress: (ip) => ip === '127.0.0.1', resolve: stubResolver({ [HOST]: ['127.0.0.1'] }).resolve, ca: tls.cert } };
    mod = loadDeliverer(table, secretArn, sm.endpoint);
  });
  afterAll(async () => {
    for (const res of hanging) res.destroy();
    await receiver?.close();
    await sm?.stop();
  });

  let rotatedSecret = generateSigningSecret();
  const uniqueSecretName = () => `webhooks-${Math.random().toString(36).slice(2, 8)}`;
  const hitsOf = (path: string) => receiver.received.filter((r) => r.path === path);
  const newJob = async (path?: string) => (await createJob({ functionName: 'orders', runtime: 'nodejs24.x', ...(path ? { webhookUrl: `${base}${path}` } : {}) }, table.services)).job.jobId;

  test('delivered: the envelope as body, webhook-id = eventId, a signature the reference verifier accepts; logged with its status', async () => {
    const handler = mod.createDeliverWebhooksHandler(hooks);
    const queue = await deliveryQueue(table.clients, TEST_WEBHOOK_SETTINGS.maxAttempts);
    const jobId = await newJob('/ok');
    const message = buildEventMessage(jobId);
    await queue.send(message.body);
    const run = await queue.poll(handler);
    expect(run!.failed).toEqual([]);
    const seen = hitsOf('/ok').at(-1)!;
    expect(JSON.parse(seen.body)).toEqual(message.detail);
    expect(seen.headers['webhook-id']).toBe(message.eventId);
    expect(new Webhook(secret).verify(seen.body, seen.headers as Record<string, string>)).toEqual(message.detail);
    expect(String(seen.headers['webhook-signature']).split(' ')).toHaveLength(1);
    const log = await logItem(table, jobId, message.eventId);
    expect(log).toMatchObject({ eventId: message.eventId, eventType: BuildEvents.COMPLETED, state: 'delivered', attemptCount: 1, ttl: expect.any(Number) });
    expect(log!.attempts).toEqual([expect.objectContaining({ statusCode: 200, outcome: 'delivered', durationMs: expect.any(Number) })]);
  });

  test('a delivered event redelivered (SQS at-least-once, a re-published change) is acked and never re-sent', async () => {
    const handler = mod.createDeliverWebhooksHandler(hooks);
    const queue = await deliveryQueue(table.clients, TEST_WEBHOOK_SETTINGS.maxAttempts);
    const jobId = await newJob('/ok');
    const message = buildEventMessage(jobId);
    await queue.send(message.body);
    await queue.poll(handler);
    const sent = hitsOf('/ok').length;
    await queue.send(message.body);
    await queue.send(message.body);
    const again = await queue.poll(handler, 1);
    expect(again!.failed).toEqual([]);
    expect(hitsOf('/ok').length).toBe(sent);
    expect(await logItem(table, jobId, message.eventId)).toMatchObject({ state: 'delivered', attemptCount: 1 });
  });

  test('5xx: retried with growing visibility delays (1 s, 2 s, 4 s at the jitter ceiling), then exhausted into the DLQ; the log keeps every status', async () => {
    const handler = mod.createDeliverWebhooksHandler({ ...hooks, random: () => 0.999 });
    const queue = await deliveryQueue(table.clients, TEST_WEBHOOK_SETTINGS.maxAttempts);
    const jobId = await newJob('/fail');
    const message = buildEventMessage(jobId);
    await queue.send(message.body);
    const gaps: number[] = [];
    let run = await queue.poll(handler);
    for (let attempt = 2; attempt <= TEST_WEBHOOK_SETTINGS.maxAttempts; attempt++) {
      expect(run!.failed).toHaveLength(1);
      expect(await receive(table.clients.sqs, queue.url)).toEqual([]); // hidden for the delay
      const failedAt = run!.at;
      do { await sleep(100); run = await queue.poll(handler); } while (!run);
      gaps.push(run.receivedAt - failedAt);
      expect(run.receiveCounts).toEqual([attempt]);
    }
    expect(run!.failed).toHaveLength(1); // the 4th attempt failed too: attempts spent, no delay set
    // Visibility is whole seconds: ceil(0.999 × 1000 × 2^(n−1)) ms → 1, 2, 4 s (capped at maxDelayMs 4 s).
    const expected = [1_000, 2_000, 4_000];
    gaps.forEach((gap, i) => {
      expect(gap).toBeGreaterThanOrEqual(expected[i] - 150);
      expect(gap).toBeLessThan(expected[i] + 1_500);
    });
    expect(gaps[1]).toBeGreaterThan(gaps[0]);
    expect(gaps[2]).toBeGreaterThan(gaps[1]);
    const log = await logItem(table, jobId, message.eventId);
    expect(log).toMatchObject({ state: 'exhausted', attemptCount: 4 });
    expect(log!.attempts.map((a: { statusCode: number; outcome: string }) => [a.statusCode, a.outcome])).toEqual(Array(4).fill([503, 'retry']));
    // The queue's maxReceiveCount (= maxAttempts) moves it to the DLQ on the next receive after its own visibility timeout.
    await sleep(2_100);
    expect(await queue.poll(handler)).toBeUndefined();
    const dead = await receive(table.clients.sqs, queue.dlqUrl, 10, 2);
    expect(dead.map((m) => JSON.parse(m.Body!).detail.eventId)).toEqual([message.eventId]);
    expect(hitsOf('/fail').filter((r) => r.headers['webhook-id'] === message.eventId)).toHaveLength(4);
  });

  test('a receiver that hangs past timeoutMs is retried; delays stay within the full-jitter bounds', async () => {
    const handler = mod.createDeliverWebhooksHandler(hooks); // Math.random jitter
    const queue = await deliveryQueue(table.clients, TEST_WEBHOOK_SETTINGS.maxAttempts);
    const jobId = await newJob('/hang');
    const message = buildEventMessage(jobId);
    await queue.send(message.body);
    const started = Date.now();
    let run = await queue.poll(handler);
    expect(Date.now() - started).toBeLessThan(TEST_WEBHOOK_SETTINGS.timeoutMs + 1_000);
    for (const ceilingSeconds of [1, 2]) {
      expect(run!.failed).toHaveLength(1);
      const failedAt = run!.at;
      do { await sleep(100); run = await queue.poll(handler); } while (!run);
      // At least 1 s (never an immediate retry), at most the attempt's ceiling (1 s, then 2 s).
      expect(run.receivedAt - failedAt).toBeGreaterThanOrEqual(1_000 - 150);
      expect(run.receivedAt - failedAt).toBeLessThan(ceilingSeconds * 1_000 + 1_500);
    }
    const log = await logItem(table, jobId, message.eventId);
    expect(log).toMatchObject({ state: 'retrying', attemptCount: 3 });
    expect(log!.attempts[0]).toMatchObject({ statusCode: 0, outcome: 'retry', error: expect.stringMatching(/^TIMEOUT/) });
  });

  test('410 Gone: the job\'s webhook is disabled (version untouched), later events of the job are not sent', async () => {
    const handler = mod.createDeliverWebhooksHandler(hooks);
    const queue = await deliveryQueue(table.clients, TEST_WEBHOOK_SETTINGS.maxAttempts);
    const jobId = await newJob('/gone');
    const before = await table.rawItem(`JOB#${jobId}`, 'JOB');
    const started = buildEventMessage(jobId, BuildEvents.STARTED, 'building');
    await queue.send(started.body);
    expect((await queue.poll(handler))!.failed).toEqual([]);
    const job = await table.rawItem(`JOB#${jobId}`, 'JOB');
    expect(job).toMatchObject({ webhookDisabled: true, version: before!.version, updatedAt: before!.updatedAt });
    expect(await logItem(table, jobId, started.eventId)).toMatchObject({ state: 'gone', attempts: [expect.objectContaining({ statusCode: 410, outcome: 'gone' })] });

    const completed = buildEventMessage(jobId);
    await queue.send(completed.body);
    await queue.send(started.body); // and the 410'd one redelivered
    const hits = hitsOf('/gone').length;
    expect((await queue.poll(handler, 1))!.failed).toEqual([]);
    expect(hitsOf('/gone').length).toBe(hits);
    expect(await logItem(table, jobId, completed.eventId)).toMatchObject({ state: 'skipped', attempts: [] });
  });

  test('other 4xx and 3xx are logged and acked, not retried (the same request would get the same answer); redirects not followed', async () => {
    const handler = mod.createDeliverWebhooksHandler(hooks);
    const queue = await deliveryQueue(table.clients, TEST_WEBHOOK_SETTINGS.maxAttempts);
    const bad = await newJob('/bad');
    const moved = await newJob('/redirect');
    const m1 = buildEventMessage(bad);
    const m2 = buildEventMessage(moved);
    await queue.send(m1.body);
    await queue.send(m2.body);
    const okHits = hitsOf('/ok').length;
    let failed: string[] = [];
    for (let i = 0; i < 3; i++) failed = failed.concat((await queue.poll(handler, 1))?.failed ?? []);
    expect(failed).toEqual([]);
    expect(await logItem(table, bad, m1.eventId)).toMatchObject({ state: 'rejected', attempts: [expect.objectContaining({ statusCode: 400, outcome: 'rejected' })] });
    expect(await logItem(table, moved, m2.eventId)).toMatchObject({ state: 'rejected', attempts: [expect.objectContaining({ statusCode: 302, outcome: 'redirected' })] });
    expect(hitsOf('/ok').length).toBe(okHits);
  });

  test('no webhook URL: acked, nothing sent, nothing logged; malformed messages are acked, never retried', async () => {
    const handler = mod.createDeliverWebhooksHandler(hooks);
    const queue = await deliveryQueue(table.clients, TEST_WEBHOOK_SETTINGS.maxAttempts);
    const jobId = await newJob();
    const message = buildEventMessage(jobId);
    const other = JSON.parse(message.body);
    await queue.send(message.body);
    await queue.send('not json');
    await queue.send(JSON.stringify({ ...other, source: 'someone.else' }));
    await queue.send(JSON.stringify({ ...other, detail: { hello: 'world' } }));
    await queue.send(JSON.stringify({ ...other, detail: { ...other.detail, payload: { jobId: '../../etc' } } }));
    let handled = 0;
    for (let i = 0; i < 5 && handled < 5; i++) {
      const run = await queue.poll(handler, 1);
      expect(run?.failed ?? []).toEqual([]);
      handled += run?.receiveCounts.length ?? 0;
    }
    expect(handled).toBe(5);
    expect(await logItem(table, jobId, message.eventId)).toBeUndefined();
  });

  test('a receiver that already has a rotated secret (401) makes the deliverer read the secret again and re-send at once', async () => {
    const handler = mod.createDeliverWebhooksHandler(hooks);
    const queue = await deliveryQueue(table.clients, TEST_WEBHOOK_SETTINGS.maxAttempts);
    await queue.send(buildEventMessage(await newJob('/ok')).body);
    await queue.poll(handler); // the container has the secret cached now
    rotatedSecret = generateSigningSecret();
    const previousUntil = new Date(Date.now() + 60_000).toISOString();
    sm.putCurrent(secretArn, JSON.stringify({ current: rotatedSecret, previous: secret, previousUntil }));
    const reads = sm.count('GetSecretValue');
    const jobId = await newJob('/new-secret-only');
    const message = buildEventMessage(jobId);
    await queue.send(message.body);
    expect((await queue.poll(handler))!.failed).toEqual([]);
    expect(sm.count('GetSecretValue')).toBe(reads + 1);
    const log = await logItem(table, jobId, message.eventId);
    expect(log).toMatchObject({ state: 'delivered', attemptCount: 2 });
    expect(log!.attempts.map((a: { statusCode: number }) => a.statusCode)).toEqual([401, 204]);
    const seen = hitsOf('/new-secret-only').at(-1)!;
    expect(String(seen.headers['webhook-signature']).split(' ')).toHaveLength(2); // new and previous, during the overlap
    expect(new Webhook(secret).verify(seen.body, seen.headers as Record<string, string>)).toBeDefined();
  });

  test('an unusable signing secret is a deployment defect: the record fails (SQS retries, then the DLQ alarms), nothing sent or logged', async () => {
    const brokenArn = sm.create(`broken-${Math.random().toString(36).slice(2, 8)}`, JSON.stringify({ current: 'not-base64!' }));
    const broken = loadDeliverer(table, brokenArn, sm.endpoint);
    const queue = await deliveryQueue(table.clients, TEST_WEBHOOK_SETTINGS.maxAttempts);
    const jobId = await newJob('/ok');
    const message = buildEventMessage(jobId);
    await queue.send(message.body);
    const hits = hitsOf('/ok').length;
    expect((await queue.poll(broken.createDeliverWebhooksHandler(hooks)))!.failed).toHaveLength(1);
    expect(hitsOf('/ok').length).toBe(hits);
    expect(await logItem(table, jobId, message.eventId)).toBeUndefined();
  });

  test('the delivery log keeps the last DELIVERY_LOG_MAX_ATTEMPTS attempts, counts them all, and never lets a late retry hide delivered', async () => {
    const services = { db: table.clients.doc, tableName: table.tableName };
    const change = { jobId: 'log-trim', eventId: buildEventMessage('log-trim').eventId, eventType: BuildEvents.COMPLETED };
    let log;
    for (let i = 1; i <= DELIVERY_LOG_MAX_ATTEMPTS + 2; i++) {
      const at = new Date(Date.UTC(2026, 10, 29, 8, 0, i)).toISOString();
      log = await recordDelivery({ ...change, state: 'retrying', attempts: [{ at, statusCode: 500 + i, outcome: 'retry', durationMs: 1 }], at }, log, services);
    }
    const stored = await logItem(table, change.jobId, change.eventId);
    expect(stored).toMatchObject({ state: 'retrying', attemptCount: DELIVERY_LOG_MAX_ATTEMPTS + 2 });
    expect(stored!.attempts).toHaveLength(DELIVERY_LOG_MAX_ATTEMPTS);
    expect(stored!.attempts[0].statusCode).toBe(503); // the first two were dropped
    // Two deliveries of one message at once: one read the log before the other wrote.
    const stale = await readDeliveryLog(change.jobId, change.eventId, services);
    await recordDelivery({ ...change, state: 'delivered', attempts: [{ at: 'a', statusCode: 200, outcome: 'delivered', durationMs: 1 }], at: 'a' }, stale, services);
    await recordDelivery({ ...change, state: 'retrying', attempts: [{ at: 'b', statusCode: 503, outcome: 'retry', durationMs: 1 }], at: 'b' }, stale, services);
    const after = await logItem(table, change.jobId, change.eventId);
    expect(after).toMatchObject({ state: 'delivered', attemptCount: DELIVERY_LOG_MAX_ATTEMPTS + 4 });
    expect(after!.attempts.slice(-2).map((a: { statusCode: number }) => a.statusCode)).toEqual([200, 503]);
  });

  describe('refused destinations: blocked, acked, no connection ever reaches a listener', () => {
    let listener: net.Server;
    let port: number;
    let connections = 0;
    beforeAll(async () => {
      listener = net.createServer((socket) => { connections++; socket.destroy(); });
      await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
      port = (listener.address() as net.AddressInfo).port;
    });
    afterAll(() => new Promise<void>((resolve) => listener.close(() => resolve())));

    const cases: Array<[string, () => string]> = [
      ['instance metadata', () => 'http://169.254.169.254/latest/meta-data/'],
      ['127.1', () => `http://127.1:${port}/`],
      ['[::1]', () => `http://[::1]:${port}/`],
      ['0x7f.1', () => `http://0x7f.1:${port}/`],
      ['10/8', () => 'https://10.0.0.5/'],
      ['CGNAT', () => 'https://100.64.0.1/'],
      ['192.168/16', () => 'https://192.168.1.1/'],
      ['a name resolving to 127.0.0.1', () => `https://evil.example:${port}/`],
    ];
    test.each(cases)('%s', async (_name, url) => {
      // The production guard: no loopback allowance; only a stub resolver for the names.
      const handler = mod.createDeliverWebhooksHandler({ guard: { resolve: stubResolver({ 'evil.example': ['127.0.0.1'] }).resolve } });
      const queue = await deliveryQueue(table.clients, TEST_WEBHOOK_SETTINGS.maxAttempts);
      const jobId = `ssrf-${Math.random().toString(36).slice(2, 10)}`;
      await putJob(table, jobId, url());
      const message = buildEventMessage(jobId);
      await queue.send(message.body);
      expect((await queue.poll(handler))!.failed).toEqual([]);
      expect(await logItem(table, jobId, message.eventId)).toMatchObject({
        state: 'blocked', attempts: [expect.objectContaining({ statusCode: 0, outcome: 'blocked', error: expect.stringMatching(/^WEBHOOK_BLOCKED/) })],
      });
      expect(connections).toBe(0);
    });

    test('DNS rebinding: public when the URL was checked, 127.0.0.1 at delivery: the connect-time lookup refuses', async () => {
      let lookups = 0;
      const { resolve } = stubResolver({ 'rebind.example': () => (++lookups === 1 ? ['93.184.216.34'] : ['127.0.0.1']) });
      const url = `https://rebind.example:${port}/hook`;
      await expect(checkWebhookUrl(url, { resolve })).resolves.toBeDefined(); // e.g. when the job was created
      const handler = mod.createDeliverWebhooksHandler({ guard: { resolve } });
      const queue = await deliveryQueue(table.clients, TEST_WEBHOOK_SETTINGS.maxAttempts);
      const jobId = `rebind-${Math.random().toString(36).slice(2, 10)}`;
      await putJob(table, jobId, url);
      const message = buildEventMessage(jobId);
      await queue.send(message.body);
      expect((await queue.poll(handler))!.failed).toEqual([]);
      expect(lookups).toBe(2);
      expect(await logItem(table, jobId, message.eventId)).toMatchObject({ state: 'blocked' });
      expect(connections).toBe(0);
    });

    test('the deployed handler (no test options, default settings: https only) refuses an http URL', async () => {
      const deployed = loadDeliverer(table, secretArn, sm.endpoint, { ...TEST_WEBHOOK_SETTINGS, allowHttp: false });
      const queue = await deliveryQueue(table.clients, TEST_WEBHOOK_SETTINGS.maxAttempts);
      const jobId = `http-${Math.random().toString(36).slice(2, 10)}`;
      await putJob(table, jobId, `http://hooks.example.com:${port}/`);
      const message = buildEventMessage(jobId);
      await queue.send(message.body);
      expect((await queue.poll(deployed.handler))!.failed).toEqual([]);
      expect(await logItem(table, jobId, message.eventId)).toMatchObject({
        state: 'blocked', attempts: [expect.objectContaining({ error: expect.stringMatching(/https only/) })],
      });
      expect(connections).toBe(0);
    });
  });
});
