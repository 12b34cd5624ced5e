import type { LookupAddress } from 'node:dns';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { JobsTable } from './jobs-table';
import type { DeliverTestHooks } from '../../functions/build-pipeline/deliver-webhooks';
import { deterministicUuid } from '../../functions/shared/deterministic-id';
import {
  BUILD_EVENT_SOURCE, BuildEvents, BuildPipelineEnv, DeliveryLogLayout, type WebhookSettings,
} from '../../lib/build-pipeline/contract';
import { shippedBundle } from '../harness/bundle-handler';
import { configureHandlerEnv, deleteMessages, fakeContext, receive, toSqsEvent, uniqueName, type LocalClients } from '../harness/local-aws';

/** The deliverer's settings in the tests: small delays and timeout, http allowed for the SSRF cases' http URLs. */
export const TEST_WEBHOOK_SETTINGS: WebhookSettings = {
  maxAttempts: 4, baseDelayMs: 1_000, maxDelayMs: 4_000, timeoutMs: 500, allowHttp: true, rotationOverlapSeconds: 2,
};

type BatchFn = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
interface DeliverModule { createDeliverWebhooksHandler(hooks?: DeliverTestHooks): BatchFn }

/**
 * A fresh container of the shipped deliver-webhooks bundle (its own settings and secret cache),
 * pointed at the jobs table and a local Secrets Manager. The module's `handler` is the deployed
 * one; its factory takes the test-only guard options (loopback receivers, a stub resolver, a CA).
 */
export function loadDeliverer(table: JobsTable, secretArn: string, secretsEndpoint: string, settings: WebhookSettings = TEST_WEBHOOK_SETTINGS) {
  configureHandlerEnv({
    [BuildPipelineEnv.JOBS_TABLE_NAME]: table.tableName,
    [BuildPipelineEnv.WEBHOOK_SECRET_ARN]: secretArn,
    [BuildPipelineEnv.WEBHOOK_SETTINGS]: JSON.stringify(settings),
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsEndpoint,
  });
  let mod!: DeliverModule & { handler: BatchFn };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  jest.isolateModules(() => { mod = require(shippedBundle('functions/build-pipeline/deliver-webhooks.ts').file); });
  return mod;
}

/** A resolver stub: each name answers the addresses listed (a function: per lookup). */
export function stubResolver(answers: Record<string, string[] | (() => string[])>) {
  const calls: string[] = [];
  const resolve = async (hostname: string): Promise<LookupAddress[]> => {
    calls.push(hostname);
    const a = answers[hostname];
    return (typeof a === 'function' ? a() : a ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return { calls, resolve };
}

/** A build event as the rule delivers it to the queue: the EventBridge event, the envelope as `detail`. */
export function buildEventMessage(jobId: string, eventType: string = BuildEvents.COMPLETED, status = 'completed') {
  const eventId = deterministicUuid(`build-pipeline:${jobId}:${status}`);
  const detail = {
    eventId,
    eventType,
    correlationId: `corr-${jobId.slice(0, 8)}`,
    occurredAt: new Date().toISOString(),
    source: BUILD_EVENT_SOURCE,
    version: 1,
    payload: {
      jobId,
      functionName: 'orders',
      runtime: 'nodejs24.x',
      handler: 'index.handler',
      status,
      jobVersion: 4,
      createdAt: '2026-11-29T08:00:00.000Z',
      updatedAt: '2026-11-29T08:01:00.000Z',
    },
  };
  const event = {
    'version': '0',
    'id': deterministicUuid(`eb:${eventId}`),
    'detail-type': eventType,
    'source': BUILD_EVENT_SOURCE,
    'account': '000000000000',
    'time': detail.occurredAt,
    'region': 'us-east-1',
    'resources': [],
    detail,
  };
  return { eventId, detail, body: JSON.stringify(event) };
}

/** A job item with just what the deliverer reads (URLs the create API would refuse, e.g. http, are the point of some tests). */
export async function putJob(table: JobsTable, jobId: string, webhookUrl?: string, extra: Record<string, unknown> = {}): Promise<void> {
  await table.clients.doc.send(new PutCommand({
    TableName: table.tableName,
    Item: { PK: `JOB#${jobId}`, SK: 'JOB', jobId, status: 'completed', version: 4, ttl: 1_900_000_000, ...(webhookUrl ? { webhookUrl } : {}), ...extra },
  }));
}

export const logItem = (table: JobsTable, jobId: string, eventId: string) => table.rawItem(`JOB#${jobId}`, DeliveryLogLayout.sortKey(eventId));

/** A delivery queue with its DLQ (maxReceiveCount = maxAttempts), as the construct makes it. */
export async function deliveryQueue(clients: LocalClients, maxReceiveCount: number, visibilitySeconds = 2) {
  const name = uniqueName('webhooks');
  const dlqUrl = (await clients.sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }))).QueueUrl!;
  const arnOf = async (url: string) =>
    (await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  const url = (await clients.sqs.send(new CreateQueueCommand({
    QueueName: name,
    Attributes: {
      VisibilityTimeout: String(visibilitySeconds),
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: await arnOf(dlqUrl), maxReceiveCount }),
    },
  }))).QueueUrl!;
  const arn = await arnOf(url);
  return {
    url,
    arn,
    dlqUrl,
    send: (body: string) => clients.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body })),
    /**
     * One poll as Lambda's event source mapping does it: receive, invoke, delete what succeeded.
     * Returns the invocation's failures, the receive counts seen, when the messages were received and when
     * the invocation ended (its visibility changes are made by then); undefined when nothing was visible.
     */
    async poll(handler: BatchFn, waitSeconds = 0) {
      const messages = await receive(clients.sqs, url, 10, waitSeconds);
      if (messages.length === 0) return undefined;
      const receivedAt = Date.now();
      const response = await handler(toSqsEvent(messages, arn), fakeContext('build-webhooks'));
      const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      await deleteMessages(clients.sqs, url, messages.filter((m) => !failed.has(m.MessageId!)));
      const receiveCounts = messages.map((m) => Number(m.Attributes?.ApproximateReceiveCount));
      return { response, failed: [...failed], receiveCounts, receivedAt, at: Date.now() };
    },
  };
}
