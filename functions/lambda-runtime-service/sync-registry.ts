import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { syncBatch, type SyncServices } from './sync-registry-logic';
import {
  DEFAULT_RUNTIME_SETTINGS, DEFAULT_SCHEDULE_SETTINGS, LambdaRuntimeEnv, LambdaRuntimeHandlers,
  type RuntimeSettings, type ScheduleSettings,
} from '../../lib/lambda-runtime-service/contract';
import { documentClient } from '../shared/clients/dynamodb';
import { lambdaClient } from '../shared/clients/lambda';
import { schedulerClient } from '../shared/clients/scheduler';
import { jsonObjectSetting, numberSetting, readConfig } from '../shared/config';
import { streamHandler } from '../shared/invocation-handler';
import { createLogger, logSink } from '../shared/logger';

const contract = LambdaRuntimeHandlers.syncRegistry;
const config = readConfig(contract.environment);
const logger = createLogger(contract.serviceName);

/** Scheduler's own bounds: a value outside them would fail every CreateSchedule, so the cold start fails instead. */
function scheduleSettings(value: string): ScheduleSettings {
  const name = LambdaRuntimeEnv.SCHEDULE_SETTINGS;
  const s = { ...DEFAULT_SCHEDULE_SETTINGS, ...jsonObjectSetting(name, value) };
  return {
    maximumRetryAttempts: numberSetting(`${name}.maximumRetryAttempts`, String(s.maximumRetryAttempts), 0, 185),
    maximumEventAgeSeconds: numberSetting(`${name}.maximumEventAgeSeconds`, String(s.maximumEventAgeSeconds), 60, 86_400),
  };
}

/**
 * The tombstone's TTL (`markPurged`) follows the construct's tombstoneRetentionSeconds. RUNTIME_SETTINGS
 * is not (yet) in this handler's contract environment, so it is read when set and defaults otherwise.
 */
function tombstoneRetention(value: string | undefined): Pick<RuntimeSettings, 'tombstoneRetentionSeconds'> {
  const name = LambdaRuntimeEnv.RUNTIME_SETTINGS;
  const s = { ...DEFAULT_RUNTIME_SETTINGS, ...(value ? jsonObjectSetting(name, value) : {}) };
  return { tombstoneRetentionSeconds: numberSetting(`${name}.tombstoneRetentionSeconds`, String(s.tombstoneRetentionSeconds), 0, 10 * 365 * 86_400) };
}

const services: SyncServices = {
  registry: {
    db: documentClient,
    tableName: config.FUNCTION_REGISTRY_TABLE_NAME,
    now: () => new Date(),
    settings: tombstoneRetention(process.env[LambdaRuntimeEnv.RUNTIME_SETTINGS]),
  },
  schedules: {
    scheduler: schedulerClient,
    groupName: config.SCHEDULE_GROUP_NAME,
    prefix: config.FUNCTION_NAME_PREFIX,
    functionArnBase: config.FUNCTION_ARN_BASE,
    roleArn: config.SCHEDULER_ROLE_ARN,
    dlqArn: config.SCHEDULE_DLQ_ARN,
    settings: scheduleSettings(config.SCHEDULE_SETTINGS),
  },
  lambda: lambdaClient,
  prefix: config.FUNCTION_NAME_PREFIX,
  log: logSink(logger),
};

// aws-lambda's and the SDK's AttributeValue types differ only in name.
const keysOf = (keys: unknown) => (keys ? unmarshall(keys as Record<string, AttributeValue>) : {});

/**
 * The registry table's stream (NEW_AND_OLD_IMAGES, filtered by the construct to META items):
 * each function named in the batch is reconciled once to its current item. A function whose
 * reconcile fails reports its first record (partial batch response), so the others are not
 * held back and Lambda retries the stream from the earliest failure.
 */
export const handler = streamHandler(logger, async (event) => {
  const changes = event.Records.map((record) => ({
    sequenceNumber: record.dynamodb?.SequenceNumber ?? '',
    keys: keysOf(record.dynamodb?.Keys),
  }));
  const { failedSequenceNumbers, outcomes } = await syncBatch(changes, services);
  logger.info('Registry changes synced', { records: event.Records.length, functions: outcomes.size + failedSequenceNumbers.length, failed: failedSequenceNumbers.length });
  return { batchItemFailures: failedSequenceNumbers.map((itemIdentifier) => ({ itemIdentifier })) };
});
