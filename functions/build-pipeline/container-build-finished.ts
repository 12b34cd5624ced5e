import { finishContainerBuild, readBuildStateChange, type FinishReport } from './container-build-finished-logic';
import { BuildPipelineHandlers } from '../../lib/build-pipeline/contract';
import { documentClient } from '../shared/clients/dynamodb';
import { readConfig } from '../shared/config';
import { scheduledHandler } from '../shared/invocation-handler';
import { createLogger } from '../shared/logger';

const contract = BuildPipelineHandlers.containerBuildFinished;
const config = readConfig(contract.environment);
const logger = createLogger(contract.serviceName);
const services = {
  db: documentClient,
  tableName: config.BUILD_JOBS_TABLE_NAME,
  repositoryUri: config.CONTAINER_REPOSITORY_URI,
  now: () => new Date(),
};

/**
 * An EventBridge rule's target (CodeBuild "Build State Change" of the container project).
 * A malformed or unrelated event is logged and dropped: throwing would only retry it and send
 * it to the DLQ unchanged. Store errors (throttling, network) throw, so the asynchronous
 * invocation retries; redelivered events change nothing (owner-checked conditional writes).
 */
export const handler = scheduledHandler<unknown, FinishReport | { outcome: 'ignored' | 'malformed' }>(logger, async (event) => {
  const change = readBuildStateChange(event);
  if (change.kind !== 'finished') {
    // IN_PROGRESS is routine (the rule should not even send it); a malformed event needs a look.
    if (change.kind === 'malformed') logger.error('CodeBuild event dropped', { reason: change.reason });
    else logger.debug('CodeBuild event ignored', { reason: change.reason });
    return { outcome: change.kind };
  }
  logger.appendKeys({ jobId: change.jobId, buildId: change.buildId });
  const report = await finishContainerBuild(change, services);
  if (report.warning) logger.warn('Container build completed without an image digest', { warning: report.warning });
  if (report.outcome === 'changed') logger.info('Container job finished', { buildStatus: change.status, ...report });
  // not_owner / stale / duplicate: an old build after a takeover, or a redelivered event; nothing changed.
  else logger.warn('CodeBuild event changed nothing', { buildStatus: change.status, ...report });
  return report;
});
