import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { SQSRecord } from 'aws-lambda';
import { deliverBuildEvent, parseDeliveryMessage, type DeliverServices } from './deliver-webhooks-logic';
import { readWebhookSettings } from './settings';
import { WebhookSecretCache } from './webhook-secrets';
import { BuildPipelineHandlers } from '../../lib/build-pipeline/contract';
import { documentClient } from '../shared/clients/dynamodb';
import { secretsManagerClient } from '../shared/clients/secrets-manager';
import { readConfig } from '../shared/config';
import { createLogger } from '../shared/logger';
import { concurrentRecordsHandler, RecordNotDoneError, retryLater } from '../shared/sqs-retry';

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
    throw new RecordNotDoneError(decision.reason);
  }
  const visibilityTimeout = await retryLater(record, decision.delayMs, logger, fields);
  logger.warn('Webhook not delivered: retried later', { ...fields, ...decision, visibilityTimeout });
  throw new RecordNotDoneError(decision.reason);
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
  return concurrentRecordsHandler(logger, (record) => processRecord(record, services));
}

export const handler = createDeliverWebhooksHandler();
