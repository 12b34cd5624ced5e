import { randomUUID } from 'node:crypto';
import type { LookupAddress } from 'node:dns';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { Webhook } from 'standardwebhooks';
import { runtimeTables, type RuntimeTables } from './runtime-tables';
import type { CompleteTestHooks } from '../../functions/lambda-runtime-service/complete-invocations';
// From source (no SDK client, nothing ESM-only): the record parsing as plain functions.
import * as logic from '../../functions/lambda-runtime-service/complete-invocations-logic';
import { getInvocation } from '../../functions/lambda-runtime-service/invocation-audit';
import { registerFunction } from '../../functions/lambda-runtime-service/registry-store';
import { generateSigningSecret } from '../../functions/shared/outbound-webhook/standard-webhooks-signer';
import { awsFunctionName, InvocationStatus, LambdaRuntimeEnv as E, type CallbackSettings } from '../../lib/lambda-runtime-service/contract';
import { loadHandler, shippedBundle } from '../harness/bundle-handler';
import {
  apiEvent, configureHandlerEnv, createBucket, deleteMessages, endpoints, fakeContext, localClients, receive, receiveAtLeast, REGION,
  toSqsEvent, uniqueName,
} from '../harness/local-aws';
import { deployPlatformFunction } from '../harness/local-lambda/platform-function';
import { startLocalLambda, type LocalLambda } from '../harness/local-lambda/server';
import { startLocalSecretsManager, type LocalSecretsManager } from '../harness/local-secrets-manager';
import { hasOpenssl, selfSignedCertificate, startReceiver, type Receiver } from '../shared/outbound-webhook/receiver';

/*
 * The async path end to end: the shipped invoke-function bundle accepts (202), the local Lambda runs
 * the function and delivers Lambda's destination record (on-success to the results queue; on-failure
 * to an SNS topic fanned out with raw delivery to the results queue and the platform DLQ), the shipped
 * complete-invocations bundle consumes the results queue as an event source mapping would, completes
 * the audit on DynamoDB Local and POSTs the signed callback to an HTTPS receiver on 127.0.0.1, named
 * receiver.example by a stub resolver.
 */
jest.setTimeout(90_000);

type HttpFn = (event: APIGatewayProxyEvent, context: unknown) => Promise<APIGatewayProxyResult>;
type BatchFn = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
interface CompleteModule { createCompleteInvocationsHandler(hooks?: CompleteTestHooks): BatchFn }

const PREFIX = 'plat';
const HOST = 'receiver.example';
const SETTINGS: CallbackSettings = { maxAttempts: 3, baseDelayMs: 1_000, maxDelayMs: 4_000, timeoutMs: 2_000 };
const clients = localClients();
const bucket = uniqueName('complete-code');
const secret = generateSigningSecret();
const rotated = generateSigningSecret();
const secretName = uniqueName('callbacks');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const describeTls = hasOpenssl() ? describe : describe.skip;

const resolveTo = (answers: Record<string, string>) => async (hostname: string): Promise<LookupAddress[]> =>
  (answers[hostname] ? [{ address: answers[hostname], family: 4 }] : []);

describeTls('complete-invocations (shipped bundles, local Lambda destinations, SNS fan-out)', () => {
  let t: RuntimeTables;
  let lambda: LocalLambda;
  let client: LambdaClient;
  let sm: LocalSecretsManager;
  let receiver: Receiver;
  let invoke: HttpFn;
  let mod: CompleteModule;
  let complete: BatchFn;
  let results: { url: string; arn: string; dlqUrl: string };
  let platformDlqUrl: string;
  let topicArn: string;
  let base: string;
  let flakyCalls = 0;

  const arnOf = async (url: string) =>
    (await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;

  beforeAll(async () => {
    t = await runtimeTables();
    await createBucket(clients.s3, bucket);
    // The results queue as the construct makes it: its DLQ takes a record after maxAttempts receives.
    const name = uniqueName('async-results');
    const dlqUrl = (await clients.sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }))).QueueUrl!;
    const url = (await clients.sqs.send(new CreateQueueCommand({
      QueueName: name,
      Attributes: { VisibilityTimeout: '2', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: await arnOf(dlqUrl), maxReceiveCount: SETTINGS.maxAttempts }) },
    }))).QueueUrl!;
    results = { url, arn: await arnOf(url), dlqUrl };
    // The failure topic fans out, raw, to the results queue and to the platform's DLQ of failed invocations.
    platformDlqUrl = (await clients.sqs.send(new CreateQueueCommand({ QueueName: uniqueName('async-failures') }))).QueueUrl!;
    topicArn = (await clients.sns.send(new CreateTopicCommand({ Name: uniqueName('async-failure') }))).TopicArn!;
    for (const queueUrl of [results.url, platformDlqUrl]) {
      await clients.sns.send(new SubscribeCommand({
        TopicArn: topicArn, Protocol: 'sqs', Endpoint: await arnOf(queueUrl), Attributes: { RawMessageDelivery: 'true' },
      }));
    }

    lambda = await startLocalLambda({ s3Endpoint: endpoints().fauxqs });
    client = new LambdaClient({ region: REGION, endpoint: lambda.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
    sm = await startLocalSecretsManager();
    const tls = selfSignedCertificate(HOST);
    receiver = await startReceiver({
      '/ok': (_req, res) => res.writeHead(200).end('thanks'),
      '/bad': (_req, res) => res.writeHead(400).end('no'),
      '/down': (_req, res) => res.writeHead(503).end('down'),
      '/flaky': (_req, res) => res.writeHead(++flakyCalls === 1 ? 503 : 204).end(),
      '/rotated': (req, res, body) => {
        try {
          new Webhook(rotated).verify(body, req.headers as Record<string, string>);
          res.writeHead(204).end();
        } catch {
          res.writeHead(401).end('bad signature');
        }
      },
    }, tls);
    base = `https://${HOST}:${receiver.port}`;

    configureHandlerEnv({
      [E.REGISTRY_TABLE_NAME]: t.registryTable,
      [E.AUDIT_TABLE_NAME]: t.auditTable,
      [E.FUNCTION_PREFIX]: PREFIX,
      [E.FUNCTION_LIMITS]: '{}',
      [E.RUNTIME_SETTINGS]: '{}',
      [E.CALLBACK_SECRET_ARN]: sm.put(secretName, JSON.stringify({ current: secret })),
      [E.CALLBACK_SETTINGS]: JSON.stringify(SETTINGS),
      AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.endpoint,
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
    jest.isolateModules(() => { invoke = loadHandler<HttpFn>(shippedBundle('functions/lambda-runtime-service/invoke-function.ts')); });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    jest.isolateModules(() => { mod = require(shippedBundle('functions/lambda-runtime-service/complete-invocations.ts').file); });
    // Test hooks: 127.0.0.1 let through (the receiver), receiver.example resolved to it, the receiver's CA trusted.
    complete = mod.createCompleteInvocationsHandler({
      guard: { allowAddress: (ip) => ip === '127.0.0.1', resolve: resolveTo({ [HOST]: '127.0.0.1' }), ca: tls.cert },
      random: () => 0.999,
    });
  });

  afterAll(async () => {
    await lambda?.close();
    client?.destroy();
    await receiver?.close();
    await sm?.stop();
  });

  async function deploy(name: string, source: string, timeoutSeconds?: number) {
    await deployPlatformFunction({
      lambda: client,
      s3: clients.s3,
      bucket,
      functionName: awsFunctionName(PREFIX, name),
      source,
      timeoutSeconds,
      onSuccess: results.arn,
      onFailure: topicArn,
    });
    await registerFunction({ name, runtime: 'nodejs24.x', rateLimit: { requestsPerSecond: 100, burst: 100 } }, t.registry);
  }

  /** POST .../invoke?mode=async through the shipped bundle; waits for Lambda to run it and deliver its record. */
  async function invokeAsync(name: string, payload: unknown, callback?: string): Promise<string> {
    const callbackUrl = callback?.startsWith('/') ? `${base}${callback}` : callback;
    const response = await invoke({
      ...apiEvent({ method: 'POST', body: payload, query: { mode: 'async', ...(callbackUrl ? { callbackUrl } : {}) } }),
      resource: '/v1.0/functions/{name}/invoke',
      pathParameters: { name },
    }, fakeContext('lambda-runtime-invoke'));
    expect([response.statusCode, response.body]).toEqual([202, expect.any(String)]);
    await lambda.drain();
    return JSON.parse(response.body).invocationId;
  }

  /** One poll of the results queue as Lambda's event source mapping does it: receive, invoke, delete what succeeded. */
  async function poll(handler: BatchFn = complete, waitSeconds = 1) {
    const messages = await receive(clients.sqs, results.url, 10, waitSeconds);
    if (messages.length === 0) return undefined;
    const response = await handler(toSqsEvent(messages, results.arn), fakeContext('lambda-runtime-results'));
    const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    await deleteMessages(clients.sqs, results.url, messages.filter((m) => !failed.has(m.MessageId!)));
    return { messages, failed: [...failed], at: Date.now() };
  }

  const hitsOf = (path: string) => receiver.received.filter((r) => r.path === path);
  const recordOf = (invocationId: string) => getInvocation(invocationId, t.audit);

  test('success: the record arrives on-success, the audit is success with executedVersion and duration; the callback is signed; two replays change nothing and send nothing', async () => {
    await deploy('echo', 'exports.handler = async (event) => ({ doubled: event.n * 2 });');
    const invocationId = await invokeAsync('echo', { n: 21 }, '/ok');
    const delivered = lambda.deliveries.at(-1)!;
    expect(delivered).toMatchObject({ destination: results.arn, delivered: true });
    // Lambda's documented record, with the request id the Invoke answered.
    expect(delivered.record).toEqual({
      version: '1.0',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      requestContext: {
        requestId: (await recordOf(invocationId))!.requestId,
        functionArn: expect.stringMatching(new RegExp(`:function:${PREFIX}-echo:live$`)),
        condition: 'Success',
        approximateInvokeCount: 1,
      },
      requestPayload: { n: 21 },
      responseContext: { statusCode: 200, executedVersion: '1' },
      responsePayload: { doubled: 42 },
    });

    const run = await poll();
    expect(run!.failed).toEqual([]);
    const audit = await recordOf(invocationId);
    expect(audit).toMatchObject({ status: InvocationStatus.SUCCESS, version: '1', mode: 'async', callbackState: 'delivered', callbackAttempts: 1 });
    expect(audit!.durationMs).toBeGreaterThanOrEqual(0);
    expect(audit!.finishedAt).toBe(new Date(String(delivered.record.timestamp)).toISOString());

    const seen = hitsOf('/ok');
    expect(seen).toHaveLength(1);
    expect(seen[0].headers['webhook-id']).toBe(invocationId);
    expect(new Webhook(secret).verify(seen[0].body, seen[0].headers as Record<string, string>)).toEqual({
      invocationId, functionName: 'echo', status: 'success', result: { doubled: 42 },
    });

    // SQS delivers at least once: the same record twice more.
    for (let i = 0; i < 2; i++) {
      await clients.sqs.send(new SendMessageCommand({ QueueUrl: results.url, MessageBody: JSON.stringify(delivered.record) }));
    }
    const replay = await receiveAtLeast(clients.sqs, results.url, 2);
    const response = await complete(toSqsEvent(replay, results.arn), fakeContext('lambda-runtime-results'));
    expect(response.batchItemFailures).toEqual([]);
    await deleteMessages(clients.sqs, results.url, replay);
    expect(hitsOf('/ok')).toHaveLength(1);
    expect(await recordOf(invocationId)).toEqual(audit);
  });

  test('a failing function: on-failure through SNS reaches the platform DLQ and the results queue; the audit ends error; the callback carries the error', async () => {
    await deploy('boom', "exports.handler = async (e) => { throw new TypeError('bad order ' + e.id); };");
    const invocationId = await invokeAsync('boom', { id: 7 }, '/ok');
    const { requestId } = (await recordOf(invocationId))!;

    const inDlq = await receiveAtLeast(clients.sqs, platformDlqUrl, 1);
    const dlqRecord = JSON.parse(inDlq[0].Body!);
    expect(dlqRecord).toMatchObject({
      requestContext: { requestId, condition: 'RetriesExhausted', approximateInvokeCount: 1 },
      requestPayload: { id: 7 },
      responseContext: { statusCode: 200, executedVersion: '1', functionError: 'Unhandled' },
      responsePayload: { errorType: 'TypeError', errorMessage: 'bad order 7' },
    });

    expect((await poll())!.failed).toEqual([]);
    expect(await recordOf(invocationId)).toMatchObject({
      status: InvocationStatus.ERROR, errorType: 'TypeError', errorMessage: 'bad order 7', version: '1', callbackState: 'delivered',
    });
    const seen = hitsOf('/ok').at(-1)!;
    expect(new Webhook(secret).verify(seen.body, seen.headers as Record<string, string>)).toEqual({
      invocationId, functionName: 'boom', status: 'error', error: { errorType: 'TypeError', errorMessage: 'bad order 7' },
    });
  });

  test('a function past its timeout is audited timeout', async () => {
    await deploy('slow', 'exports.handler = async () => { await new Promise((r) => setTimeout(r, 5000)); return 1; };', 1);
    const invocationId = await invokeAsync('slow', {});
    expect((await poll())!.failed).toEqual([]);
    expect(await recordOf(invocationId)).toMatchObject({ status: InvocationStatus.TIMEOUT, errorType: 'Sandbox.Timedout' });
  });

  test('callback 5xx: retried after a full-jitter delay set by ChangeMessageVisibility, then delivered once; the record fails until then', async () => {
    await deploy('flaky', 'exports.handler = async () => "done";');
    const invocationId = await invokeAsync('flaky', {}, '/flaky');
    const first = await poll();
    expect(first!.failed).toHaveLength(1);
    expect(await recordOf(invocationId)).toMatchObject({ status: InvocationStatus.SUCCESS, callbackState: 'retrying', callbackAttempts: 1 });
    expect(await receive(clients.sqs, results.url)).toEqual([]); // hidden for the delay: ceil(0.999 × 1000 ms) = 1 s
    let second;
    do { await sleep(100); second = await poll(undefined, 0); } while (!second);
    expect(second.at - first!.at).toBeGreaterThanOrEqual(850);
    expect(second.failed).toEqual([]);
    expect(flakyCalls).toBe(2);
    expect(await recordOf(invocationId)).toMatchObject({ callbackState: 'delivered', callbackAttempts: 2 });
  });

  test('a receiver that keeps failing: attempts spent at maxAttempts, the record lands in the results DLQ', async () => {
    await deploy('unheard', 'exports.handler = async () => "done";');
    const invocationId = await invokeAsync('unheard', {}, '/down');
    for (let attempt = 1; attempt <= SETTINGS.maxAttempts; attempt++) {
      let run;
      do { run = await poll(undefined, 0); if (!run) await sleep(200); } while (!run);
      expect(run.failed).toHaveLength(1);
    }
    expect(hitsOf('/down')).toHaveLength(SETTINGS.maxAttempts);
    expect(await recordOf(invocationId)).toMatchObject({ callbackState: 'exhausted', callbackAttempts: SETTINGS.maxAttempts });
    // maxReceiveCount moves it on the next receive after the queue's visibility timeout.
    await sleep(2_100);
    expect(await poll(undefined, 0)).toBeUndefined();
    const dead = await receiveAtLeast(clients.sqs, results.dlqUrl, 1);
    expect(JSON.parse(dead[0].Body!).requestContext.requestId).toBe((await recordOf(invocationId))!.requestId);
  }, 60_000);

  test('a 4xx other than 408/429 is final: recorded rejected, acked, never retried', async () => {
    await deploy('refused', 'exports.handler = async () => "done";');
    const invocationId = await invokeAsync('refused', {}, '/bad');
    expect((await poll())!.failed).toEqual([]);
    expect(await recordOf(invocationId)).toMatchObject({ callbackState: 'rejected', callbackAttempts: 1 });
    expect(hitsOf('/bad')).toHaveLength(1);
  });

  test('SSRF: the production guard never connects to a name that resolves to a private or loopback address', async () => {
    // No allowAddress: receiver.example → 127.0.0.1 and inner.example → 10.0.0.5 are both refused at connect.
    const guarded = mod.createCompleteInvocationsHandler({
      guard: { resolve: resolveTo({ [HOST]: '127.0.0.1', 'inner.example': '10.0.0.5' }) },
    });
    await deploy('leaky', 'exports.handler = async () => "secret";');
    const connections = () => [...receiver.hits.values()].reduce((a, b) => a + b, 0);
    const before = connections();
    const viaLoopback = await invokeAsync('leaky', {}, '/ok');
    const viaPrivate = await invokeAsync('leaky', {}, `https://inner.example:${receiver.port}/ok`);
    let done = 0;
    while (done < 2) done += (await poll(guarded))?.messages.length ?? 0;
    for (const id of [viaLoopback, viaPrivate]) {
      expect(await recordOf(id)).toMatchObject({ status: InvocationStatus.SUCCESS, callbackState: 'blocked', callbackAttempts: 1 });
      expect((await recordOf(id))!.callbackDetail).toMatch(/not a public address/);
    }
    expect(connections()).toBe(before);
  });

  test('a receiver already on a rotated secret answers 401: the secret is read again and the callback re-sent at once, signed with both', async () => {
    await deploy('rotating', 'exports.handler = async () => "done";');
    // Rotation: the new key signs, the old one too until previousUntil (so the other tests' receivers still verify).
    sm.put(secretName, JSON.stringify({ current: rotated, previous: secret, previousUntil: new Date(Date.now() + 3_600_000).toISOString() }));
    const reads = sm.reads();
    const invocationId = await invokeAsync('rotating', {}, '/rotated');
    expect((await poll())!.failed).toEqual([]);
    const [refused, accepted] = hitsOf('/rotated');
    expect(String(refused.headers['webhook-signature']).split(' ')).toHaveLength(1); // the cached, old secret only
    expect(String(accepted.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(sm.reads()).toBe(reads + 1);
    expect(await recordOf(invocationId)).toMatchObject({ callbackState: 'delivered', callbackAttempts: 1 });
  });

  test('a record with no pointer: retried while the invoke handler may still be writing, then recorded under its request id (a schedule)', async () => {
    await deploy('cron', 'exports.handler = async () => "tick";');
    const requestId = randomUUID();
    const record = (timestamp: string) => JSON.stringify({
      version: '1.0',
      timestamp,
      requestContext: {
        requestId, functionArn: `arn:aws:lambda:${REGION}:000000000000:function:${PREFIX}-cron:live`, condition: 'Success', approximateInvokeCount: 1,
      },
      requestPayload: { source: 'scheduler' },
      responseContext: { statusCode: 200, executedVersion: '1' },
      responsePayload: 'tick',
    });
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: results.url, MessageBody: record(new Date().toISOString()) }));
    const young = await poll();
    expect(young!.failed).toHaveLength(1);
    expect(await recordOf(requestId)).toBeUndefined();
    await deleteMessages(clients.sqs, results.url, await receiveAtLeast(clients.sqs, results.url, 1, 4_000));

    const finishedAt = new Date(Date.now() - 60_000).toISOString();
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: results.url, MessageBody: record(finishedAt) }));
    expect((await poll())!.failed).toEqual([]);
    expect(await recordOf(requestId)).toMatchObject({
      invocationId: requestId, functionName: 'cron', mode: 'async', status: InvocationStatus.SUCCESS, version: '1', startedAt: finishedAt, finishedAt,
    });

    // Not a platform function (outside the prefix): acked, nothing recorded.
    const other = JSON.parse(record(finishedAt));
    other.requestContext.functionArn = `arn:aws:lambda:${REGION}:000000000000:function:someone-else:live`;
    other.requestContext.requestId = randomUUID();
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: results.url, MessageBody: JSON.stringify(other) }));
    expect((await poll())!.failed).toEqual([]);
    expect(await recordOf(other.requestContext.requestId)).toBeUndefined();
  });
});

describe('destination records (pure parsing)', () => {
  const requestContext = (condition: string) => ({
    requestId: randomUUID(), functionArn: `arn:aws:lambda:${REGION}:000000000000:function:${PREFIX}-orders:live`, condition, approximateInvokeCount: 3,
  });
  const parse = (value: unknown) => {
    const parsed = logic.parseDestinationRecord(typeof value === 'string' ? value : JSON.stringify(value));
    if ('invalid' in parsed) throw new Error(parsed.invalid);
    return parsed;
  };

  test('EventAgeExceeded (no response: the function never ran) is an error named by the condition', () => {
    const record = parse({ version: '1.0', timestamp: new Date().toISOString(), requestContext: requestContext('EventAgeExceeded'), requestPayload: {} });
    expect(logic.outcomeOf(record)).toEqual({ status: 'error', errorType: 'EventAgeExceeded', errorMessage: undefined, version: undefined });
  });

  test('a handled error and a timeout message without a type', () => {
    const base = { version: '1.0', timestamp: new Date().toISOString(), requestContext: requestContext('RetriesExhausted') };
    expect(logic.outcomeOf(parse({ ...base, responseContext: { statusCode: 200, executedVersion: '4', functionError: 'Handled' }, responsePayload: 'x' })))
      .toEqual({ status: 'error', errorType: 'Handled', errorMessage: undefined, version: '4' });
    expect(logic.outcomeOf(parse({
      ...base,
      responseContext: { statusCode: 200, executedVersion: '4', functionError: 'Unhandled' },
      responsePayload: { errorMessage: '2026-11-29T10:00:00.000Z abc Task timed out after 3.00 seconds' },
    }))).toMatchObject({ status: 'timeout', version: '4' });
  });

  test('an SNS notification without raw delivery is unwrapped; anything else is refused with a reason', () => {
    const record = { version: '1.0', timestamp: new Date().toISOString(), requestContext: requestContext('Success') };
    expect(parse({ Type: 'Notification', Message: JSON.stringify(record) }).requestContext).toEqual(record.requestContext);
    expect(logic.parseDestinationRecord('not json')).toEqual({ invalid: 'body is not JSON' });
    expect(logic.parseDestinationRecord(JSON.stringify({ ...record, requestContext: { ...record.requestContext, requestId: '../x' } })))
      .toEqual({ invalid: 'requestContext.requestId' });
  });

  test('only functions under the prefix are the platform\'s', () => {
    const arn = (name: string) => `arn:aws:lambda:${REGION}:000000000000:function:${name}:live`;
    expect(logic.functionNameOfArn(arn('plat-orders'), 'plat')).toBe('orders');
    expect(logic.functionNameOfArn(`arn:aws:lambda:${REGION}:000000000000:function:plat-orders`, 'plat')).toBe('orders');
    expect(logic.functionNameOfArn(arn('platform-orders'), 'plat')).toBeUndefined();
    expect(logic.functionNameOfArn(arn('plat-Bad_Name'), 'plat')).toBeUndefined();
  });
});
