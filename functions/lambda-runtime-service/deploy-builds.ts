import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { deployBuild, parseFunctionTags, parsePrefix, type DeployServices } from './deploy-logic';
import { readFunctionLimits } from './registry-store';
import { LambdaRuntimeEnv as E, LambdaRuntimeHandlers } from '../../lib/lambda-runtime-service/contract';
import { documentClient } from '../shared/clients/dynamodb';
import { lambdaClient } from '../shared/clients/lambda';
import { sqsClient } from '../shared/clients/sqs';
import { readConfig } from '../shared/config';
import { HttpError } from '../shared/errors';
import { createLogger } from '../shared/logger';

const contract = LambdaRuntimeHandlers.deployBuilds;
const config = readConfig(contract.environment);
const logger = createLogger(contract.serviceName);
const prefix = parsePrefix(config[E.FUNCTION_PREFIX]);
const limits = readFunctionLimits(config[E.FUNCTION_LIMITS], E.FUNCTION_LIMITS);
const tags = parseFunctionTags(config[E.FUNCTION_TAGS]);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The library envelope of a deploy-queue message: an EventBridge rule delivers the whole event,
 * the envelope is its `detail`. Undefined when the body is not such an event.
 */
export function envelopeOfMessage(body: string): Record<string, unknown> | undefined {
  let parsed: unknown;
  try { parsed = JSON.parse(body); } catch { return undefined; }
  return isObject(parsed) && isObject(parsed.detail) ? parsed.detail : undefined;
}

async function processRecord(record: SQSRecord, services: DeployServices): Promise<void> {
  const envelope = envelopeOfMessage(record.body);
  const fields = {
    messageId: record.messageId,
    eventId: envelope?.eventId,
    correlationId: envelope?.correlationId,
    attempt: Number(record.attributes?.ApproximateReceiveCount) || 1,
  };
  if (!envelope) {
    // The rule routes only BuildCompleted events here; a body that is not one fails the same way on every receive.
    logger.error('Not an EventBridge event with a detail: dropped, never retried', fields);
    return;
  }
  try {
    const log = {
      info: (m: string, x?: object) => logger.info(m, { ...fields, ...x }),
      warn: (m: string, x?: object) => logger.warn(m, { ...fields, ...x }),
    };
    const result = await deployBuild(envelope, { ...services, log });
    // refused, deleted, stale and duplicate are done: a redelivery would end the same way.
    if (result.outcome === 'refused') logger.warn('BuildCompleted not deployable: dropped', { ...fields, ...result });
    else logger.info('BuildCompleted handled', { ...fields, ...result });
  } catch (error) {
    // A 4xx of the registry (a value it refuses) is as permanent as a refused envelope.
    if (error instanceof HttpError && error.statusCode < 500) {
      logger.error('BuildCompleted refused by the registry: dropped', { ...fields, error: error as Error });
      return;
    }
    logger.error('Deploy failed: the message is retried', { ...fields, error: error as Error });
    throw error;
  }
}

/** Test-only options; the deployed `handler` passes none (the wall clock). */
export interface DeployBuildsHooks {
  readonly now?: () => Date;
}

/**
 * The deploy queue's consumer (BuildCompleted from the build bus, by an EventBridge rule). Records
 * run one after the other: deploys of one function serialize cheaply here instead of racing on
 * Lambda's revision checks, and Lambda's control-plane rate stays low. A record fails alone
 * (partial batch response) when Lambda, S3 or DynamoDB failed; the deploy is idempotent on the
 * build id, so the redelivery is safe.
 */
export function createDeployBuildsHandler(hooks: DeployBuildsHooks = {}) {
  const now = hooks.now ?? (() => new Date());
  const services: DeployServices = {
    registry: { db: documentClient, tableName: config[E.REGISTRY_TABLE_NAME], now, limits },
    lambda: lambdaClient,
    prefix,
    executionRoleArn: config[E.EXECUTION_ROLE_ARN],
    tags,
    maxReservedConcurrency: limits.maxReservedConcurrency,
    asyncDestinations: { onSuccess: config[E.ASYNC_SUCCESS_DESTINATION_ARN], onFailure: config[E.ASYNC_FAILURE_DESTINATION_ARN] },
    canaryQueue: { sqs: sqsClient, queueUrl: config[E.CANARY_QUEUE_URL] },
  };
  return middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(sqsPartialBatchFailure({ logger: false as any }))
    .handler((async (event: SQSEvent) => {
      const results: PromiseSettledResult<void>[] = [];
      for (const record of event.Records) {
        try {
          results.push({ status: 'fulfilled', value: await processRecord(record, services) });
        } catch (reason) {
          results.push({ status: 'rejected', reason });
        }
      }
      return results;
    }) as any);
}

export const handler = createDeployBuildsHandler();
