import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSRecord } from 'aws-lambda';
import { checkCanary, parseCanaryCheck, type CanaryServices } from './canary-logic';
import { parsePrefix } from './deploy-logic';
import { readFunctionLimits } from './registry-store';
import {
  LAMBDA_RUNTIME_METRICS_NAMESPACE, LambdaRuntimeEnv as E, LambdaRuntimeHandlers, LambdaRuntimeMetrics,
} from '../../lib/lambda-runtime-service/contract';
import { documentClient } from '../shared/clients/dynamodb';
import { lambdaClient } from '../shared/clients/lambda';
import { sqsClient } from '../shared/clients/sqs';
import { readConfig } from '../shared/config';
import { createLogger, logSink } from '../shared/logger';
import { concurrentRecordsHandler } from '../shared/sqs-retry';

const contract = LambdaRuntimeHandlers.checkCanaries;
const config = readConfig(contract.environment);
const logger = createLogger(contract.serviceName);
const metrics = new Metrics({ namespace: LAMBDA_RUNTIME_METRICS_NAMESPACE, serviceName: contract.serviceName });
const prefix = parsePrefix(config[E.FUNCTION_PREFIX]);
const limits = readFunctionLimits(config[E.FUNCTION_LIMITS], E.FUNCTION_LIMITS);

async function processRecord(record: SQSRecord, services: CanaryServices): Promise<void> {
  const parsed = parseCanaryCheck(record.body);
  if ('reason' in parsed) {
    // Only the deploy path and this handler write to the canary queue: a body that is not a check never becomes one.
    logger.error('Not a canary check: dropped, never retried', { messageId: record.messageId, reason: parsed.reason });
    return;
  }
  const { message } = parsed;
  const fields = { messageId: record.messageId, function: message.name, lambdaVersion: message.lambdaVersion, step: message.step };
  const result = await checkCanary(message, services);
  if (result.outcome === 'rolled-back') {
    logger.warn('Canary rolled back: its error rate crossed the threshold', { ...fields, ...result });
    // One EMF document per rollback, so its FunctionName dimension is this function's alone.
    metrics.addDimension('FunctionName', message.name);
    metrics.addMetric(LambdaRuntimeMetrics.ROLLBACKS, MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
    return;
  }
  logger.info('Canary check done', { ...fields, ...result });
}

/** Test-only options; the deployed `handler` passes none (the wall clock). */
export interface CheckCanariesHooks {
  readonly now?: () => Date;
}

/**
 * The canary queue's consumer. A record fails alone (partial batch response) when Lambda, SQS or
 * DynamoDB failed; every action of a check is conditional, so its redelivery is harmless.
 */
export function createCheckCanariesHandler(hooks: CheckCanariesHooks = {}) {
  const now = hooks.now ?? (() => new Date());
  const services: CanaryServices = {
    registry: { db: documentClient, tableName: config[E.REGISTRY_TABLE_NAME], now, limits },
    audit: { db: documentClient, tableName: config[E.AUDIT_TABLE_NAME] },
    lambda: lambdaClient,
    prefix,
    canaryQueue: { sqs: sqsClient, queueUrl: config[E.CANARY_QUEUE_URL] },
    now,
    log: logSink(logger),
  };
  return concurrentRecordsHandler(logger, (record) => processRecord(record, services), 'Canary check failed: the message is retried');
}

export const handler = createCheckCanariesHandler();
