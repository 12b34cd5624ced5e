import { listBuilds, listDeliveries, parseJobId, readBuild, type ReadBuildsServices } from './read-builds-logic';
import { BuildPipelineHandlers } from '../../lib/build-pipeline/contract';
import { documentClient } from '../shared/clients/dynamodb';
import { readConfig } from '../shared/config';
import { MethodNotAllowedError, jsonResponse } from '../shared/errors';
import { httpHandler } from '../shared/http-handler';
import { createLogger } from '../shared/logger';
import { pageTokenKeyFromSecret } from '../shared/page-token-secret';

const contract = BuildPipelineHandlers.readBuilds;
const config = readConfig(contract.environment);
const logger = createLogger(contract.serviceName);
const services: ReadBuildsServices = {
  db: documentClient,
  tableName: config.BUILD_JOBS_TABLE_NAME,
  now: () => new Date(),
  pageTokenKey: pageTokenKeyFromSecret(config.PAGE_TOKEN_SECRET_ARN),
};

/** GET /v1.0/builds?functionName=, GET /v1.0/builds/{jobId}, GET /v1.0/builds/{jobId}/deliveries. */
export const handler = httpHandler(logger, async ({ event, correlationId }) => {
  if (event.httpMethod !== 'GET') throw new MethodNotAllowedError();
  const rawId = event.pathParameters?.jobId;
  if (rawId === undefined) return jsonResponse(200, await listBuilds(event.queryStringParameters, services), correlationId);
  const jobId = parseJobId(rawId);
  // The resource template says which route matched; the path is the fallback for other proxies.
  const deliveries = (event.resource ?? event.path ?? '').endsWith('/deliveries');
  return jsonResponse(200, deliveries ? await listDeliveries(jobId, services) : await readBuild(jobId, services), correlationId);
});
