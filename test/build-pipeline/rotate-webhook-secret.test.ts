import type { Context } from 'aws-lambda';
import { Webhook } from 'standardwebhooks';
import { jobsTable, type JobsTable } from './jobs-table';
import { buildEventMessage, deliveryQueue, loadDeliverer, stubResolver, TEST_WEBHOOK_SETTINGS } from './webhook-delivery-fixture';
import { createJob } from '../../functions/build-pipeline/job-store';
import { BuildPipelineEnv } from '../../lib/build-pipeline/contract';
import { shippedBundle } from '../harness/bundle-handler';
import { configureHandlerEnv, fakeContext } from '../harness/local-aws';
import { startVersionedSecretsManager, type VersionedSecretsManager } from '../harness/local-versioned-secrets-manager';
import { hasOpenssl, Receiver, selfSignedCertificate, startReceiver } from '../shared/outbound-webhook/receiver';

/*
 * The shipped rotation bundle, step by step as Secrets Manager calls it, against a local
 * Secrets Manager with versions and staging labels; then the shipped deliverer signs with
 * what the rotation left, checked with the standardwebhooks reference verifier.
 */
type RotationFn = (event: { SecretId: string; ClientRequestToken: string; Step: string }, context: Context) => Promise<void>;
const STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'];
const HOST = 'receiver.example';
/** What the construct's generateSecretString makes: `{"current":"<64 letters and digits>"}` (no whsec_ prefix). */
const INITIAL = 'Zx81mQ4pLr2Tk9VwB7cN3yHs6JdF0aGuE5oKiXlWbR8tYqPnMvCe1jSgA4hDz2U7';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let sm: VersionedSecretsManager;
let rotate: RotationFn;
beforeAll(async () => {
  sm = await startVersionedSecretsManager();
  configureHandlerEnv({ [BuildPipelineEnv.WEBHOOK_SETTINGS]: JSON.stringify(TEST_WEBHOOK_SETTINGS), AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.endpoint });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  jest.isolateModules(() => { rotate = require(shippedBundle('functions/build-pipeline/rotate-webhook-secret.ts').file).handler; });
});
afterAll(() => sm?.stop());

const run = (SecretId: string, ClientRequestToken: string, Step: string) => rotate({ SecretId, ClientRequestToken, Step }, fakeContext('build-rotation'));
const rotateAll = async (arn: string) => {
  const token = sm.startRotation(arn);
  for (const step of STEPS) await run(arn, token, step);
  return token;
};

describe('rotate-webhook-secret (shipped bundle)', () => {
  test('the four steps: a pending version { current: new whsec_, previous: old, previousUntil }, then AWSCURRENT moves to it', async () => {
    const arn = sm.create(`rot-${Date.now()}`, JSON.stringify({ current: INITIAL }));
    const [oldVersion] = Object.keys(sm.stages(arn));
    const token = sm.startRotation(arn);
    const before = Date.now();
    await run(arn, token, 'createSecret');
    const pending = JSON.parse((sm.calls.filter((c) => c.target === 'secretsmanager.PutSecretValue').at(-1)!.input).SecretString);
    expect(pending.current).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(pending.previous).toBe(`whsec_${INITIAL}`); // the generated plain value, converted
    expect(Date.parse(pending.previousUntil) - before).toBeGreaterThanOrEqual(TEST_WEBHOOK_SETTINGS.rotationOverlapSeconds * 1000 - 50);
    expect(Date.parse(pending.previousUntil) - before).toBeLessThan(TEST_WEBHOOK_SETTINGS.rotationOverlapSeconds * 1000 + 5_000);
    expect(sm.stages(arn)).toEqual({ [oldVersion]: ['AWSCURRENT'], [token]: ['AWSPENDING'] });

    // createSecret again (Secrets Manager retries a step): nothing new is written.
    const puts = sm.count('PutSecretValue');
    await run(arn, token, 'createSecret');
    expect(sm.count('PutSecretValue')).toBe(puts);

    await run(arn, token, 'setSecret');
    await run(arn, token, 'testSecret');
    expect(JSON.parse(sm.current(arn))).toEqual({ current: INITIAL }); // not current before finishSecret
    await run(arn, token, 'finishSecret');
    expect(sm.stages(arn)).toEqual({ [oldVersion]: ['AWSPREVIOUS'], [token]: ['AWSCURRENT'] });
    expect(JSON.parse(sm.current(arn))).toEqual(pending);
    // Every step again after the rotation finished: nothing to do, nothing written.
    const calls = sm.calls.length;
    for (const step of STEPS) await run(arn, token, step);
    expect(sm.calls.slice(calls).map((c) => c.target)).toEqual(Array(4).fill('secretsmanager.DescribeSecret'));
  });

  test('a second rotation keeps the latest current as previous (the one before drops out)', async () => {
    const arn = sm.create(`rot2-${Date.now()}`, JSON.stringify({ current: INITIAL }));
    await rotateAll(arn);
    const first = JSON.parse(sm.current(arn));
    await rotateAll(arn);
    const second = JSON.parse(sm.current(arn));
    expect(second.previous).toBe(first.current);
    expect(second.current).not.toBe(first.current);
  });

  test('a plain-string secret (not JSON) is taken as current', async () => {
    const arn = sm.create(`rot3-${Date.now()}`, INITIAL);
    await rotateAll(arn);
    expect(JSON.parse(sm.current(arn)).previous).toBe(`whsec_${INITIAL}`);
  });

  test('refused: a token that is not a version, a pending value testSecret cannot use, an unusable current', async () => {
    const arn = sm.create(`rot4-${Date.now()}`, JSON.stringify({ current: INITIAL }));
    await expect(run(arn, 'no-such-token', 'createSecret')).rejects.toThrow(/not a version/);
    // Pending values put by hand, not by createSecret: the current secret again, and one that does not decode.
    const token = sm.startRotation(arn);
    await fetchPut(sm, arn, token, JSON.stringify({ current: `whsec_${INITIAL}` }));
    await expect(run(arn, token, 'testSecret')).rejects.toThrow(/did not change/);
    const token2 = sm.startRotation(arn);
    await fetchPut(sm, arn, token2, JSON.stringify({ current: 'whsec_c2hvcnQ=' }));
    await expect(run(arn, token2, 'testSecret')).rejects.toThrow(/unusable/);

    const broken = sm.create(`rot5-${Date.now()}`, JSON.stringify({ current: 'short' }));
    await expect(run(broken, sm.startRotation(broken), 'createSecret')).rejects.toThrow(/unusable/);
    expect(JSON.parse(sm.current(broken))).toEqual({ current: 'short' });
  });
});

/** A PutSecretValue with AWSPENDING through the wire protocol, as an operator's CLI call would make it. */
async function fetchPut(endpoint: VersionedSecretsManager, arn: string, token: string, value: string): Promise<void> {
  const res = await fetch(endpoint.endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'secretsmanager.PutSecretValue' },
    body: JSON.stringify({ SecretId: arn, ClientRequestToken: token, SecretString: value, VersionStages: ['AWSPENDING'] }),
  });
  expect(res.status).toBe(200);
}

const describeTls = hasOpenssl() ? describe : describe.skip;
describeTls('signatures across a rotation (shipped deliverer, reference verifier)', () => {
  let table: JobsTable;
  let receiver: Receiver;
  beforeAll(async () => {
    table = await jobsTable();
    const tls = selfSignedCertificate(HOST);
    receiver = await startReceiver({ '/ok': (_req, res) => res.writeHead(200).end() }, tls);
    hooks = { guard: { allowAddress: (ip: string) => ip === '127.0.0.1', resolve: stubResolver({ [HOST]: ['127.0.0.1'] }).resolve, ca: tls.cert } };
  });
  afterAll(() => receiver?.close());
  let hooks: { guard: object };

  /** One event through a fresh deliverer container (it reads the secret as it is now); returns what the receiver got. */
  async function deliverOne(secretArn: string) {
    const { createDeliverWebhooksHandler } = loadDeliverer(table, secretArn, sm.endpoint);
    const queue = await deliveryQueue(table.clients, TEST_WEBHOOK_SETTINGS.maxAttempts);
    const { job } = await createJob({ functionName: 'orders', runtime: 'nodejs24.x', webhookUrl: `https://${HOST}:${receiver.port}/ok` }, table.services);
    await queue.send(buildEventMessage(job.jobId).body);
    const handler = createDeliverWebhooksHandler(hooks as never);
    expect((await queue.poll(handler))!.failed).toEqual([]);
    const seen = receiver.received.at(-1)!;
    return { body: seen.body, headers: seen.headers as Record<string, string>, handler, queue, jobId: job.jobId };
  }
  const verifies = (secret: string, seen: { body: string; headers: Record<string, string> }) => {
    try {
      new Webhook(secret).verify(seen.body, seen.headers);
      return true;
    } catch {
      return false;
    }
  };

  test('before: the generated value signs as whsec_<value>; overlap: old and new both verify; after previousUntil: only the new one', async () => {
    const arn = sm.create(`sig-${Date.now()}`, JSON.stringify({ current: INITIAL }));
    const old = `whsec_${INITIAL}`;
    const initial = await deliverOne(arn);
    expect(verifies(old, initial)).toBe(true);

    await rotateAll(arn);
    const { current } = JSON.parse(sm.current(arn));
    const during = await deliverOne(arn);
    expect(during.headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(verifies(old, during)).toBe(true);
    expect(verifies(current, during)).toBe(true);

    // The same container, after previousUntil (2 s overlap here): the previous secret stops signing without a refetch.
    await sleep(TEST_WEBHOOK_SETTINGS.rotationOverlapSeconds * 1000 + 100);
    const { job } = await createJob({ functionName: 'orders', runtime: 'nodejs24.x', webhookUrl: `https://${HOST}:${receiver.port}/ok` }, table.services);
    await during.queue.send(buildEventMessage(job.jobId).body);
    expect((await during.queue.poll(during.handler))!.failed).toEqual([]);
    const after = receiver.received.at(-1)!;
    const seenAfter = { body: after.body, headers: after.headers as Record<string, string> };
    expect(seenAfter.headers['webhook-signature'].split(' ')).toHaveLength(1);
    expect(verifies(current, seenAfter)).toBe(true);
    expect(verifies(old, seenAfter)).toBe(false);
  });
});
