import type { LookupAddress } from 'node:dns';
import * as http from 'node:http';
import * as net from 'node:net';
import { Webhook } from 'standardwebhooks';
import { hasOpenssl, hugeRoute, Receiver, selfSignedCertificate, startReceiver } from './receiver';
import { nextDelay } from '../../../functions/shared/outbound-webhook/backoff';
import { deliver, DeliveryOptions } from '../../../functions/shared/outbound-webhook/deliver';
import { checkConnectedPeer, checkWebhookUrl, WebhookBlockedError } from '../../../functions/shared/outbound-webhook/ssrf-guard';
import { generateSigningSecret, standardPayload } from '../../../functions/shared/outbound-webhook/standard-webhooks-signer';

/*
 * Every request here goes to receivers listening on 127.0.0.1. The production guard refuses
 * loopback, so the tests use its explicit test-only allowance (allowAddress) for 127.0.0.1 and
 * a stub resolver for names; the cases that check the guard itself leave the allowance off.
 */

const LOOPBACK = (ip: string) => ip === '127.0.0.1';
const secret = generateSigningSecret();
const message = { id: 'msg_build_j1_completed', body: standardPayload({ eventType: 'BuildCompleted', occurredAt: '2026-11-29T08:00:00.000Z' }, { jobId: 'j1' }) };
const stubResolver = (answers: Record<string, string[]>) => {
  const calls: string[] = [];
  const resolve = async (hostname: string): Promise<LookupAddress[]> => {
    calls.push(hostname);
    return (answers[hostname] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return { calls, resolve };
};

let receiver: Receiver;
let base: string;
let localOptions: DeliveryOptions;
const hanging: http.ServerResponse[] = [];
const hugeBytesWritten = { value: 0 };

beforeAll(async () => {
  receiver = await startReceiver({
    '/ok': (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('thanks'),
    '/gone': (_req, res) => res.writeHead(410).end('endpoint disabled'),
    '/unavailable': (_req, res) => res.writeHead(503, { 'retry-after': '7' }).end('try later'),
    '/throttled': (_req, res) => res.writeHead(429).end(),
    '/bad': (_req, res) => res.writeHead(400).end('{"error":"bad payload"}'),
    '/redirect': (_req, res) => res.writeHead(302, { location: `http://127.0.0.1:${receiver.port}/landing` }).end(),
    '/landing': (_req, res) => res.writeHead(200).end('followed'),
    '/slow': (_req, res) => {
      hanging.push(res); // never answers
    },
    '/huge': hugeRoute(hugeBytesWritten, 64 * 1024 * 1024),
  });
  base = `http://127.0.0.1:${receiver.port}`;
  localOptions = { secrets: [secret], allowHttp: true, allowAddress: LOOPBACK };
});

afterAll(async () => {
  for (const res of hanging) res.destroy();
  await receiver.close();
});

const countHits = (path: string) => receiver.hits.get(path) ?? 0;

describe('deliver() to a local receiver', () => {
  test('2xx: delivered, signed so that the standardwebhooks verifier accepts it, no cookies or credentials', async () => {
    const result = await deliver({ url: `${base}/ok` }, message, { ...localOptions, attempt: 3 });
    expect(result).toMatchObject({ outcome: 'delivered', status: 200, ok: true, retryable: false, attempts: 3, responseSnippet: 'thanks', truncated: false });
    const seen = receiver.received.filter((r) => r.path === '/ok').at(-1)!;
    expect(seen.body).toBe(message.body);
    expect(new Webhook(secret).verify(seen.body, seen.headers as Record<string, string>)).toMatchObject({ type: 'BuildCompleted' });
    expect(() => new Webhook(secret).verify(seen.body.replace('j1', 'j2'), seen.headers as Record<string, string>)).toThrow();
    expect(seen.headers['webhook-id']).toBe(message.id);
    expect(seen.headers['user-agent']).toBe('cdk-event-services-webhooks/1');
    expect(seen.headers['content-type']).toBe('application/json');
    expect(seen.headers.cookie).toBeUndefined();
    expect(seen.headers.authorization).toBeUndefined();
  });

  test('410 Gone stops delivery: not retryable', async () => {
    expect(await deliver({ url: `${base}/gone` }, message, localOptions)).toMatchObject({
      outcome: 'gone', status: 410, ok: false, retryable: false, responseSnippet: 'endpoint disabled',
    });
  });

  test('503 and 429 are retryable (Retry-After kept); 400 is not', async () => {
    expect(await deliver({ url: `${base}/unavailable` }, message, localOptions)).toMatchObject({
      outcome: 'retry', status: 503, retryable: true, retryAfterMs: 7_000, responseSnippet: 'try later',
    });
    expect(await deliver({ url: `${base}/throttled` }, message, localOptions)).toMatchObject({ outcome: 'retry', status: 429, retryable: true });
    expect(await deliver({ url: `${base}/bad` }, message, localOptions)).toMatchObject({
      outcome: 'rejected', status: 400, retryable: false, responseSnippet: '{"error":"bad payload"}',
    });
  });

  test('a redirect is a result, never followed (even to an allowed address)', async () => {
    const result = await deliver({ url: `${base}/redirect` }, message, localOptions);
    expect(result).toMatchObject({ outcome: 'redirected', status: 302, ok: false, retryable: false, location: `${base}/landing` });
    expect(countHits('/landing')).toBe(0);
  });

  test('a server that never answers hits the total timeout: retryable, within the bound', async () => {
    const started = Date.now();
    const result = await deliver({ url: `${base}/slow` }, message, { ...localOptions, totalTimeoutMs: 300 });
    expect(result).toMatchObject({ outcome: 'retry', status: 0, retryable: true, error: { code: 'TIMEOUT' } });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  test('connecting slower than the connect timeout (a slow lookup here) is a retryable CONNECT_TIMEOUT', async () => {
    const resolve = async (): Promise<LookupAddress[]> => new Promise((done) => {
      setTimeout(() => done([{ address: '127.0.0.1', family: 4 }]), 1_000).unref();
    });
    const started = Date.now();
    const result = await deliver({ url: `http://slow-dns.example:${receiver.port}/ok` }, message, { ...localOptions, resolve, connectTimeoutMs: 200 });
    expect(result).toMatchObject({ outcome: 'retry', retryable: true, error: { code: 'CONNECT_TIMEOUT' } });
    expect(Date.now() - started).toBeLessThan(900);
  });

  test('a huge response is cut at the bound: 4 KB kept, the connection closed long before 64 MB', async () => {
    const result = await deliver({ url: `${base}/huge` }, message, localOptions);
    expect(result).toMatchObject({ outcome: 'delivered', status: 200, truncated: true });
    expect(Buffer.byteLength(result.responseSnippet)).toBe(4_096);
    await new Promise((done) => setTimeout(done, 100));
    expect(hugeBytesWritten.value).toBeLessThan(16 * 1024 * 1024);
    const small = await deliver({ url: `${base}/ok` }, message, { ...localOptions, maxResponseBytes: 3 });
    expect(small).toMatchObject({ responseSnippet: 'tha', truncated: true });
  });

  test('a refused connection is retryable', async () => {
    const closed = await startReceiver({});
    const port = closed.port;
    await closed.close();
    expect(await deliver({ url: `http://127.0.0.1:${port}/ok` }, message, localOptions)).toMatchObject({
      outcome: 'retry', status: 0, retryable: true, error: { code: 'ECONNREFUSED' },
    });
  });

  test('retrying a 503 with backoff: same webhook-id each attempt, growing delay ceilings', async () => {
    const random = () => 0.5;
    const delays: number[] = [];
    const ids = new Set<string>();
    for (let attempt = 1; attempt <= 3; attempt++) {
      const before = receiver.received.length;
      const result = await deliver({ url: `${base}/unavailable` }, message, { ...localOptions, attempt });
      ids.add(String(receiver.received[before].headers['webhook-id']));
      expect(result.retryable).toBe(true);
      delays.push(nextDelay(attempt, { random })!);
    }
    expect([...ids]).toEqual([message.id]);
    expect(delays).toEqual([2_500, 5_000, 10_000]);
  });
});

describe('the guard inside deliver(): production defaults refuse, nothing reaches the receiver', () => {
  test('127.0.0.1 is refused without the test allowance', async () => {
    const before = receiver.received.length;
    const result = await deliver({ url: `${base}/ok` }, message, { secrets: [secret], allowHttp: true });
    expect(result).toMatchObject({ outcome: 'blocked', status: 0, ok: false, retryable: false, error: { code: 'WEBHOOK_BLOCKED' } });
    expect(receiver.received.length).toBe(before);
  });

  test.each(['http://169.254.169.254/latest/meta-data/', 'http://127.1/', 'http://[::1]/', 'http://0x7f.1/', 'http://2130706433/', 'http://100.64.1.1/'])(
    'refuses %s before connecting', async (url) => {
      expect(await deliver({ url }, message, { secrets: [secret], allowHttp: true })).toMatchObject({ outcome: 'blocked', retryable: false });
    });

  test('https only by default: an http URL is refused before any connection', async () => {
    const before = receiver.received.length;
    const result = await deliver({ url: `${base}/ok` }, message, { secrets: [secret], allowAddress: LOOPBACK });
    expect(result).toMatchObject({ outcome: 'blocked', error: { message: expect.stringMatching(/https only/) } });
    expect(receiver.received.length).toBe(before);
  });

  test('a name that resolves to 127.0.0.1 is refused at connect', async () => {
    const { resolve, calls } = stubResolver({ 'evil.example': ['127.0.0.1'] });
    const before = receiver.received.length;
    const result = await deliver({ url: `http://evil.example:${receiver.port}/ok` }, message, { secrets: [secret], allowHttp: true, resolve });
    expect(result).toMatchObject({ outcome: 'blocked', retryable: false, error: { message: expect.stringMatching(/evil\.example resolves to 127\.0\.0\.1/) } });
    expect(calls).toEqual(['evil.example']);
    expect(receiver.received.length).toBe(before);
  });

  test('DNS rebinding: public at the registration check, loopback at delivery: refused at connect', async () => {
    let lookups = 0;
    const resolve = async (): Promise<LookupAddress[]> => (++lookups === 1 ? [{ address: '93.184.216.34', family: 4 }] : [{ address: '127.0.0.1', family: 4 }]);
    const url = `http://rebind.example:${receiver.port}/ok`;
    await expect(checkWebhookUrl(url, { allowHttp: true, resolve })).resolves.toBeDefined(); // looks public
    const before = receiver.received.length;
    const result = await deliver({ url }, message, { secrets: [secret], allowHttp: true, resolve });
    expect(result).toMatchObject({ outcome: 'blocked', retryable: false });
    expect(lookups).toBe(2);
    expect(receiver.received.length).toBe(before);
  });

  test('the same name is delivered when the resolver and the test allowance say so (the connect path works)', async () => {
    const { resolve, calls } = stubResolver({ 'receiver.example': ['127.0.0.1'] });
    const result = await deliver({ url: `http://receiver.example:${receiver.port}/ok` }, message, { ...localOptions, resolve });
    expect(result).toMatchObject({ outcome: 'delivered', status: 200 });
    expect(calls).toEqual(['receiver.example']);
    expect(receiver.received.at(-1)!.headers.host).toBe(`receiver.example:${receiver.port}`);
  });

  test('the last line: a socket connected to a refused peer is destroyed (lookup bypassed here on purpose)', async () => {
    const socket = net.connect({ host: '127.0.0.1', port: receiver.port });
    const closed = new Promise<Error | undefined>((done) => {
      socket.once('error', done);
      socket.once('close', () => done(undefined));
    });
    socket.once('connect', () => checkConnectedPeer(socket));
    const error = await closed;
    expect(error).toBeInstanceOf(WebhookBlockedError);
    expect(error!.message).toMatch(/connected peer 127\.0\.0\.1/);
    expect(socket.destroyed).toBe(true);
  });

  test('a bad secret or URL is a non-retryable result, never an exception', async () => {
    expect(await deliver({ url: `${base}/ok` }, message, { ...localOptions, secrets: ['nope'] })).toMatchObject({ outcome: 'blocked', retryable: false });
    expect(await deliver({ url: 'https://user:pw@hooks.example.com/' }, message, localOptions)).toMatchObject({ outcome: 'blocked', retryable: false });
  });
});

const describeTls = hasOpenssl() ? describe : describe.skip;

describeTls('over HTTPS (self-signed certificate made with openssl, trusted through the ca option)', () => {
  let tlsReceiver: Receiver;
  let cert: string;
  beforeAll(async () => {
    const pair = selfSignedCertificate('receiver.example');
    cert = pair.cert;
    tlsReceiver = await startReceiver({ '/ok': (_req, res) => res.writeHead(202).end('queued') }, pair);
  });
  afterAll(async () => tlsReceiver?.close());

  test('https through the guarded lookup: delivered and verifiable', async () => {
    const { resolve } = stubResolver({ 'receiver.example': ['127.0.0.1'] });
    const result = await deliver({ url: `https://receiver.example:${tlsReceiver.port}/ok` }, message, { secrets: [secret], allowAddress: LOOPBACK, resolve, ca: cert });
    expect(result).toMatchObject({ outcome: 'delivered', status: 202, responseSnippet: 'queued' });
    const seen = tlsReceiver.received.at(-1)!;
    expect(() => new Webhook(secret).verify(seen.body, seen.headers as Record<string, string>)).not.toThrow();
  });

  test('certificates are verified: an untrusted certificate is a retryable TLS error, nothing delivered', async () => {
    const { resolve } = stubResolver({ 'receiver.example': ['127.0.0.1'] });
    const before = tlsReceiver.received.length;
    const result = await deliver({ url: `https://receiver.example:${tlsReceiver.port}/ok` }, message, { secrets: [secret], allowAddress: LOOPBACK, resolve });
    expect(result).toMatchObject({ outcome: 'retry', status: 0, retryable: true, error: { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' } });
    expect(tlsReceiver.received.length).toBe(before);
  });

  test('the certificate must name the host: another name is refused', async () => {
    const { resolve } = stubResolver({ 'other.example': ['127.0.0.1'] });
    const result = await deliver({ url: `https://other.example:${tlsReceiver.port}/ok` }, message, { secrets: [secret], allowAddress: LOOPBACK, resolve, ca: cert });
    expect(result).toMatchObject({ outcome: 'retry', status: 0, error: { code: 'ERR_TLS_CERT_ALTNAME_INVALID' } });
  });
});
