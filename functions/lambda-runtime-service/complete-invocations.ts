/**
 * The async results queue's consumer: Lambda destination records (on-success from Lambda, on-failure
 * through the failure topic with raw delivery) complete the invocation audit and send the callbacks.
 * Records are independent (a standard queue), so a batch's records run concurrently and fail alone
 * (partial batch failures): one slow callback receiver does not hold up the others.
 */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { SQSRecord } from 'aws-lambda';
import { CallbackSecretCache, readCallbackSettings, type CallbackServices } from './callback-delivery';
import { completeFromRecord, parseDestinationRecord, type CompleteServices } from './complete-invocations-logic';
import { LambdaRuntimeHandlers, type RuntimeSettings } from '../../lib/lambda-runtime-service/contract';
import { documentClient } from '../shared/clients/dynamodb';
import { secretsManagerClient } from '../shared/clients/secrets-manager';
import { jsonObjectSetting, readConfig } from '../shared/config';
import { createLogger } from '../shared/logger';
import { concurrentRecordsHandler, RecordNotDoneError, retryLater } from '../shared/sqs-retry';

const contract = LambdaRuntimeHandlers.completeInvocations;
const config = readConfig(contract.environment);
const logger = createLogger(contract.serviceName);
const callbackSettings = readCallbackSettings(config.CALLBACK_SETTINGS);
const runtimeSettings = jsonObjectSetting<RuntimeSettings>('RUNTIME_SETTINGS', config.RUNTIME_SETTINGS);
// One GetSecretValue per container and 5 minutes: a rotation keeps the previous key signing longer than that.
const secrets = new CallbackSecretCache(
  async () => (await secretsManagerClient.send(new GetSecretValueCommand({ SecretId: config.CALLBACK_SECRET_ARN }))).SecretString,
);

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
  const visibilityTimeout = await retryLater(record, decision.delayMs, logger, fields);
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
  return concurrentRecordsHandler(logger, (record) => processRecord(record, services));
}

export const handler = createCompleteInvocationsHandler();
