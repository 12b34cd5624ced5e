/**
 * The async results queue's consumer: Lambda destination records (on-success from Lambda, on-failure
 * through the failure topic with raw delivery) complete the invocation audit and send the callbacks.
 * Records are independent (a standard queue), so a batch's records run concurrently and fail alone
 * (partial batch failures): one slow callback receiver does not hold up the others.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { CallbackSecretCache, readCallbackSettings, type CallbackServices } from './callback-delivery';
import { completeFromRecord, parseDestinationRecord, type CompleteServices } from './complete-invocations-logic';
import { LambdaRuntimeHandlers, type RuntimeSettings } from '../../lib/lambda-runtime-service/contract';
import { documentClient } from '../shared/clients/dynamodb';
import { secretsManagerClient } from '../shared/clients/secrets-manager';
import { sqsClient } from '../shared/clients/sqs';
import { ConfigurationError, readConfig } from '../shared/config';
import { createLogger } from '../shared/logger';

const contract = LambdaRuntimeHandlers.completeInvocations;
const config = readConfig(contract.environment);
const logger = createLogger(contract.serviceName);
const callbackSettings = readCallbackSettings(config.CALLBACK_SETTINGS);
const runtimeSettings = ((): Partial<RuntimeSettings> => {
  try {
    const parsed: unknown = JSON.parse(config.RUNTIME_SETTINGS);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Partial<RuntimeSettings>;
  } catch { /* reported below */ }
  throw new ConfigurationError('RUNTIME_SETTINGS must be a JSON object');
})();
// One GetSecretValue per container and 5 minutes: a rotation keeps the previous key signing longer than that.
const secrets = new CallbackSecretCache(
  async () => (await secretsManagerClient.send(new GetSecretValueCommand({ SecretId: config.CALLBACK_SECRET_ARN }))).SecretString,
);

/** A record SQS redelivers after the visibility set here (or the queue's own, when attempts are spent). */
class RecordNotDoneError extends Error {
  override readonly name: string = 'RecordNotDoneError';
}

/**
 * The queue of a record, from its `eventSourceARN`. The client sends to its endpoint with this URL
 * as a parameter, so no GetQueueUrl call (nor its IAM action) is needed.
 */
function queueUrlOf(arn: string): string {
  const [, partition, service, region, account, name] = arn.split(':');
  if (service !== 'sqs' || !region || !account || !name) throw new Error(`Not an SQS queue ARN: ${arn}`);
  return `https://sqs.${region}.${partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com'}/${account}/${name}`;
}

/** Test-only options; the deployed `handler` passes none (production SSRF guard, Math.random jitter). */
export type CompleteTestHooks = Pick<CallbackServices, 'guard' | 'random'> & Pick<CompleteServices, 'pointerGraceMs'>;

async function processRecord(record: SQSRecord, services: CompleteServices): Promise<void> {
  const parsed = parseDestinationRecord(record.body);
  if ('invalid' in parsed) {
    // Only Lambda's destinations send here; anything else would fail the same way on every receive.
    logger.error('Not a Lambda destination record: acked, never retried', { messageId: record.messageId, reason: parsed.invalid });
    return;
  }
  const attempt = Math.max(1, Number(record.attributes?.ApproximateReceiveCount) || 1);
  const fields = { messageId: record.messageId, requestId: parsed.requestContext.requestId, condition: parsed.requestContext.condition, attempt };
  const decision = await completeFromRecord(parsed, attempt, services);
  if (decision.action === 'ack') {
    logger.info('Invocation result done', { ...fields, ...decision });
    return;
  }
  if (decision.action === 'fail') {
    logger.error('Callback attempts spent: the record goes to the results DLQ', { ...fields, ...decision });
    throw new RecordNotDoneError(decision.reason);
  }
  const visibilityTimeout = Math.max(1, Math.ceil(decision.delayMs / 1000)); // whole seconds; 0 would retry at once
  try {
    await sqsClient.send(new ChangeMessageVisibilityCommand({
      QueueUrl: queueUrlOf(record.eventSourceARN), ReceiptHandle: record.receiptHandle, VisibilityTimeout: visibilityTimeout,
    }));
  } catch (error) {
    // Still a failure: the record comes back after the queue's own visibility timeout instead.
    logger.error('Could not set the retry delay', { ...fields, error: error as Error });
  }
  logger.warn('Invocation result not done: retried later', { ...fields, ...decision, visibilityTimeout });
  throw new RecordNotDoneError(decision.reason);
}

export function createCompleteInvocationsHandler(hooks: CompleteTestHooks = {}) {
  const services: CompleteServices = {
    audit: { db: documentClient, tableName: config.INVOCATION_AUDIT_TABLE_NAME, settings: runtimeSettings },
    functionPrefix: config.FUNCTION_NAME_PREFIX,
    callbacks: { settings: callbackSettings, secrets, now: () => new Date(), guard: hooks.guard, random: hooks.random },
    now: () => new Date(),
    pointerGraceMs: hooks.pointerGraceMs,
  };
  return middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(sqsPartialBatchFailure({ logger: false as any }))
    .handler((async (event: SQSEvent) => Promise.allSettled(event.Records.map(async (record) => {
      try {
        await processRecord(record, services);
      } catch (error) {
        if (!(error instanceof RecordNotDoneError)) logger.error('Record failed', { messageId: record.messageId, error: error as Error });
        throw error;
      }
    }))) as any);
}

export const handler = createCompleteInvocationsHandler();
