import { expireUploads, type ExpireReport } from './expire-uploads-logic';
import { readJobSettings } from './settings';
import { BuildPipelineHandlers } from '../../lib/build-pipeline/contract';
import { documentClient } from '../shared/clients/dynamodb';
import { readConfig } from '../shared/config';
import { scheduledHandler } from '../shared/invocation-handler';
import { createLogger } from '../shared/logger';

const contract = BuildPipelineHandlers.expireUploads;
const config = readConfig(contract.environment);
const logger = createLogger(contract.serviceName);
// The sweep reads each job's own uploadExpiresAt; the settings are checked here so a bad deployment fails at init.
const services = {
  db: documentClient,
  tableName: config.BUILD_JOBS_TABLE_NAME,
  settings: readJobSettings(config.BUILD_JOB_SETTINGS),
  now: () => new Date(),
};

/** Stop reading pages with this much time left: the writes of the page in hand still finish. */
const RESERVE_MS = 10_000;

/**
 * Scheduled (every few minutes): fails the jobs whose upload window and grace have passed
 * (UPLOAD_EXPIRED; the stream publisher emits their BuildFailed). Safe to run twice or
 * concurrently: each expiry is a conditional write. A capped run leaves the rest to the next.
 */
export const handler = scheduledHandler<unknown, ExpireReport>(logger, async (_event, context) => {
  const report = await expireUploads(services, { shouldStop: () => context.getRemainingTimeInMillis() < RESERVE_MS });
  logger.info('Upload expiry sweep done', { ...report });
  return report;
});
