import { buildLink, createBuild, createBuildSchema, type CreateBuildServices } from './create-build-logic';
import { readJobSettings, readZipLimits } from './settings';
import { BuildPipelineHandlers } from '../../lib/build-pipeline/contract';
import { documentClient } from '../shared/clients/dynamodb';
import { s3Client } from '../shared/clients/s3';
import { readConfig } from '../shared/config';
import { MethodNotAllowedError, jsonResponse } from '../shared/errors';
import { getHeader } from '../shared/headers';
import { httpHandler } from '../shared/http-handler';
import { createLogger } from '../shared/logger';
import { parseJsonBody, validate } from '../shared/validation';

const contract = BuildPipelineHandlers.createBuild;
const config = readConfig(contract.environment);
const logger = createLogger(contract.serviceName);
const now = () => new Date();
// Parsed at init: a bad settings variable fails the cold start, naming it, not a request.
const zipLimits = readZipLimits(config.BUILD_ZIP_LIMITS);
const services: CreateBuildServices = {
  jobs: { db: documentClient, tableName: config.BUILD_JOBS_TABLE_NAME, now, settings: readJobSettings(config.BUILD_JOB_SETTINGS) },
  // The POST is signed locally with the function's credentials: no S3 call here.
  uploads: { s3: s3Client, bucketName: config.UPLOADS_BUCKET_NAME, now },
  maxUploadBytes: zipLimits.maxUploadBytes,
  containerBuildProject: config.CONTAINER_BUILD_PROJECT,
};

/** POST /v1.0/builds → 202 with the job and the presigned POST of its archive. */
export const handler = httpHandler(logger, async ({ event, correlationId }) => {
  if (event.httpMethod !== 'POST') throw new MethodNotAllowedError();
  const request = validate(createBuildSchema, parseJsonBody(event.body, event.isBase64Encoded));
  const idempotencyKey = getHeader(event.headers, 'idempotency-key');
  const { response, created } = await createBuild(request, { idempotencyKey, correlationId }, services);
  logger.info(created ? 'Build created' : 'Build create replayed', { jobId: response.jobId, status: response.status });
  return jsonResponse(202, response, correlationId, {
    Location: buildLink(response.jobId),
    ...(created ? {} : { 'Idempotent-Replayed': 'true' }),
  });
});
