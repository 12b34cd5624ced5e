/**
 * The presigned S3 POST a create returns: the policy itself enforces the upload's size
 * (`content-length-range` [1, maxUploadBytes]), its exact key (`uploads/{jobId}.zip`), its
 * content type and its expiry, so S3 refuses anything else before a byte reaches the worker.
 * `createPresignedPost` signs locally with the client's credentials: no network call.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { JOB_ID_PATTERN, UploadLayout, type ZipLimits } from '../../lib/build-pipeline/contract';

export interface UploadPolicyServices {
  /** A client with the region of the uploads bucket (the policy is signed for it). */
  readonly s3: S3Client;
  readonly bucketName: string;
  readonly now: () => Date;
}

export interface UploadPolicy {
  readonly url: string;
  /** Form fields to send before the file, as they are. */
  readonly fields: Record<string, string>;
  /** When the policy stops working (the policy's own `expiration`). */
  readonly expiresAt: string;
}

/**
 * The POST for one job's upload, valid until `expiresAt` (the job's `uploadExpiresAt`).
 * The SDK takes the signing time from the system clock (plus the client's clock offset),
 * so `now` only sets how many seconds the policy lasts.
 */
export async function uploadPolicy(
  jobId: string,
  limits: Pick<ZipLimits, 'maxUploadBytes'> & { readonly expiresAt: string },
  services: UploadPolicyServices,
): Promise<UploadPolicy> {
  if (!JOB_ID_PATTERN.test(jobId)) throw new Error(`Not a job id: ${JSON.stringify(jobId)}`);
  if (!Number.isInteger(limits.maxUploadBytes) || limits.maxUploadBytes < 1) throw new Error('maxUploadBytes must be a positive integer');
  const seconds = Math.floor((Date.parse(limits.expiresAt) - services.now().getTime()) / 1000);
  if (!(seconds >= 1)) throw new Error(`The upload window has closed (${limits.expiresAt})`);
  const { url, fields } = await createPresignedPost(services.s3, {
    Bucket: services.bucketName,
    Key: UploadLayout.key(jobId),
    // Fields become exact-match conditions too (the SDK adds one per field, and one for the key).
    Fields: { 'Content-Type': UploadLayout.CONTENT_TYPE },
    Conditions: [['content-length-range', 1, limits.maxUploadBytes]],
    Expires: seconds,
  });
  const policy = JSON.parse(Buffer.from(fields.Policy!, 'base64').toString('utf8')) as { expiration: string };
  return { url, fields, expiresAt: new Date(policy.expiration).toISOString() };
}
