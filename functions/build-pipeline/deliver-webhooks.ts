import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { deliverBuildEvent, parseDeliveryMessage, type DeliverServices } from './deliver-webhooks-logic';
import { readWebhookSettings } from './settings';
import { WebhookSecretCache } from './webhook-secrets';
import { BuildPipelineHandlers } from '../../lib/build-pipeline/contract';
import { documentClient } from '../shared/clients/dynamodb';
import { secretsManagerClient } from '../shared/clients/secrets-manager';
import { sqsClient } from '../shared/clients/sqs';
import { readConfig } from '../shared/config';
import { createLogger } from '../shared/logger';

const contract = BuildPipelineHandlers.deliverWebhooks;
const config = readConfig(contract.environment);
const logger = createLogger(contract.serviceName);
const settings = readWebhookSettings(config.BUILD_WEBHOOK_SETTINGS);
const secrets = new WebhookSecretCache({
  fetch: async () => (await secretsManagerClient.send(new GetSecretValueCommand({ SecretId: config.WEBHOOK_SECRET_ARN }))).SecretString,
  // One GetSecretValue per container and 5 minutes; a receiver that already has a rotated secret
  // (401/403) makes an earlier read, at most every 30 s, so bad receivers cannot drive the calls.
  ttlMs: 300_000,
  minRefetchIntervalMs: 30_000,
});

/** A failed record SQS redelivers after the visibility set here (or the queue's, when attempts are spent). */
class WebhookNotDeliveredError extends Error {
  override readonly name: string = 'WebhookNotDeliveredError';
}

/**
 * The queue of a record, from its `eventSourceARN` (arn:aws:sqs:region:account:name). The SQS
 * client sends to its endpoint (AWS_ENDPOINT_URL_SQS locally) with this URL as a parameter,
 * so no GetQueueUrl call (nor its IAM action) is needed.
 */
export function queueUrlOf(arn: string): string {
  const [, partition, service, region, account, name] = arn.split(':');
  if (service !== 'sqs' || !region || !account || !name) throw new Error(`Not an SQS queue ARN: ${arn}`);
  const suffix = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://sqs.${region}.${suffix}/${account}/${name}`;
}

/** Test-only options; the deployed `handler` passes none (production SSRF defaults, Math.random). */
export type DeliverTestHooks = Pick<DeliverServices, 'guard' | 'random'>;

async function processRecord(record: SQSRecord, services: DeliverServices): Promise<void> {
  const message = parseDeliveryMessage(record.body);
  if ('invalid' in message) {
    // EventBridge only routes build events here; anything else would fail the same way on every receive.
    logger.error('Not a build event: acked, never retried', { messageId: record.messageId, reason: message.invalid });
    return;
  }
  const attempt = Math.max(1, Number(record.attributes?.ApproximateReceiveCount) || 1);
  const fields = {
    messageId: record.messageId,
    eventId: message.envelope.eventId,
    eventType: message.envelope.eventType,
    jobId: message.jobId,
    correlationId: message.envelope.correlationId,
    attempt,
  };
  const decision = await deliverBuildEvent(message, attempt, services);
  if (decision.action === 'ack') {
    const level = decision.state === 'delivered' || decision.state === undefined ? 'info' : 'warn';
    logger[level]('Webhook message done', { ...fields, ...decision });
    return;
  }
  if (decision.action === 'fail') {
    logger.error('Webhook attempts spent: the message goes to the delivery DLQ', { ...fields, ...decision });
    throw new WebhookNotDeliveredError(decision.reason);
  }
  const visibilityTimeout = Math.max(1, Math.ceil(decision.delayMs / 1000)); // whole seconds; 0 would retry at once
  try {
    await sqsClient.send(new ChangeMessageVisibilityCommand({
      QueueUrl: queueUrlOf(record.eventSourceARN), ReceiptHandle: record.receiptHandle, VisibilityTimeout: visibilityTimeout,
    }));
  } catch (error) {
    // Still a failure: the message comes back after the queue's own visibility timeout instead.
    logger.error('Could not set the retry delay', { ...fields, error: error as Error });
  }
  logger.warn('Webhook not delivered: retried later', { ...fields, ...decision, visibilityTimeout });
  throw new WebhookNotDeliveredError(decision.reason);
}

/**
 * The webhook delivery queue's consumer. Records are independent (a standard queue, one
 * job's events ordered by the payload's jobVersion, not by delivery), so a batch's records
 * run concurrently: one slow receiver does not hold up the others' time budget.
 */
export function createDeliverWebhooksHandler(hooks: DeliverTestHooks = {}) {
  const services: DeliverServices = {
    db: documentClient, tableName: config.BUILD_JOBS_TABLE_NAME, settings, secrets, now: () => new Date(), ...hooks,
  };
  return middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(sqsPartialBatchFailure({ logger: false as any }))
    .handler((async (event: SQSEvent) => Promise.allSettled(event.Records.map(async (record) => {
      try {
        await processRecord(record, services);
      } catch (error) {
        if (!(error instanceof WebhookNotDeliveredError)) logger.error('Record failed', { messageId: record.messageId, error: error as Error });
        throw error;
      }
    }))) as any);
}

export const handler = createDeliverWebhooksHandler();
