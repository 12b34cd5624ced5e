import { createHash, randomUUID } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { CONSUMED_BUILD_EVENT } from '../../lib/lambda-runtime-service/contract';
import { yazlZip } from '../build-pipeline/zip-corpus';

/**
 * A build as BuildPipeline's worker leaves it, for the deploy tests: a deployment ZIP whose
 * nodejs handler is `handlerSource` (it may use `${jobId}`), stored in S3 (fauxqs), and its
 * BuildCompleted envelope; `ruleEvent` wraps an envelope as the rule delivers it to the deploy queue.
 */
export async function storeBuild(options: {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly functionName: string;
  readonly createdAt: string;
  readonly handlerSource: (jobId: string) => string;
}) {
  const jobId = randomUUID();
  const zip = await yazlZip([{ name: 'index.js', data: options.handlerSource(jobId) }]);
  const key = `builds/${jobId}/artifact.zip`;
  await options.s3.send(new PutObjectCommand({ Bucket: options.bucket, Key: key, Body: zip }));
  const { createdAt } = options;
  const envelope = {
    eventId: randomUUID(),
    eventType: CONSUMED_BUILD_EVENT.detailType,
    correlationId: randomUUID(),
    occurredAt: createdAt,
    source: CONSUMED_BUILD_EVENT.source,
    version: 1,
    payload: {
      jobId,
      functionName: options.functionName,
      runtime: 'nodejs24.x',
      handler: 'index.handler',
      status: 'completed',
      jobVersion: 3,
      createdAt,
      updatedAt: createdAt,
      artifact: {
        bucket: options.bucket,
        key,
        manifestKey: `builds/${jobId}/manifest.json`,
        sha256: createHash('sha256').update(zip).digest('hex'),
        size: zip.length,
        fileCount: 1,
      },
    },
  };
  return { jobId, zip, envelope };
}

/** An envelope as the rule on the builds bus delivers it to the deploy queue: an EventBridge event whose detail it is. */
export const ruleEvent = (envelope: { eventType: string; source: string }) =>
  ({ 'version': '0', 'id': randomUUID(), 'detail-type': envelope.eventType, 'source': envelope.source, 'detail': envelope });
