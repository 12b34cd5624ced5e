import { handleUploadRecord, DEADLINE_MARGIN_MS, type BuildWorkerServices } from './build-worker-logic';
import { startContainerBuild } from './container-build-start';
import { s3ArtifactSink } from './s3-artifact-sink';
import { openS3RangeSource } from './s3-range-source';
import { uploadStream } from './s3-stream-upload';
import { readJobSettings, readZipLimits } from './settings';
import { uploadNotificationSchema } from './upload-notification';
import { BuildPipelineEnv as E, BuildPipelineHandlers } from '../../lib/build-pipeline/contract';
import { codeBuildClient } from '../shared/clients/codebuild';
import { documentClient } from '../shared/clients/dynamodb';
import { s3Client } from '../shared/clients/s3';
import { readConfig } from '../shared/config';
import { createLogger, logSink } from '../shared/logger';
import { sqsBatchHandler } from '../shared/sqs-handler';

const contract = BuildPipelineHandlers.worker;
const config = readConfig(contract.environment);
const logger = createLogger(contract.serviceName);

const limits = readZipLimits(config[E.ZIP_LIMITS]);
const settings = readJobSettings(config[E.JOB_SETTINGS]);

const services: BuildWorkerServices = {
  jobs: { db: documentClient, tableName: config[E.JOBS_TABLE_NAME], now: () => new Date(), settings },
  uploadsBucket: config[E.UPLOADS_BUCKET_NAME],
  artifactsBucket: config[E.ARTIFACTS_BUCKET_NAME],
  limits,
  settings,
  containerProject: config[E.CONTAINER_BUILD_PROJECT],
  openUpload: (key) => openS3RangeSource(s3Client, config[E.UPLOADS_BUCKET_NAME], key),
  artifactSink: (jobId) => s3ArtifactSink({ s3: s3Client, bucketName: config[E.ARTIFACTS_BUCKET_NAME], jobId }),
  putArtifactZip: (key, body) => uploadStream(s3Client, { bucket: config[E.ARTIFACTS_BUCKET_NAME], key, contentType: 'application/zip' }, body),
  startContainerBuild: (request) => startContainerBuild(codeBuildClient, request),
  log: logSink(logger),
};

/**
 * The build worker: S3 ObjectCreated notifications of `uploads/{jobId}.zip` (via SQS) →
 * the job's files, manifest and deployment ZIP under `builds/{jobId}/`, then completed or
 * failed (or handed to CodeBuild for a container build). Records run one at a time; a
 * failed one comes back alone (batchItemFailures). A message holds one S3 record in
 * practice; if it holds several, all are redone on a retry (each is idempotent).
 */
export const handler = sqsBatchHandler(
  { logger, schema: uploadNotificationSchema, envelopeOf: () => ({}) as never },
  async (notification, { record, context }) => {
    if ('Event' in notification) {
      logger.info('S3 test event acknowledged', { bucket: notification.Bucket });
      return [];
    }
    const outcomes = [];
    for (const r of notification.Records) {
      outcomes.push(await handleUploadRecord(r, {
        owner: `${context.awsRequestId}/${record.messageId}`,
        receiveCount: Number(record.attributes.ApproximateReceiveCount ?? '1'),
        budgetMs: context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS,
      }, services));
    }
    return outcomes;
  },
);
