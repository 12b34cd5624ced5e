import * as z from 'zod/mini';
import { JOB_ID_PATTERN, UploadLayout } from '../../lib/build-pipeline/contract';

/**
 * The body of a message S3 sends to the worker's queue: an event notification
 * (`Records[]`), or the `s3:TestEvent` S3 sends once when the notification is configured.
 * Only the fields the worker reads are checked; the rest passes.
 */
const recordSchema = z.object({
  eventName: z.string(),
  s3: z.object({
    bucket: z.object({ name: z.string() }),
    object: z.object({ key: z.string(), size: z.optional(z.number()) }),
  }),
});
export const uploadNotificationSchema = z.union([
  z.object({ Event: z.literal('s3:TestEvent'), Bucket: z.optional(z.string()) }),
  z.object({ Records: z.array(recordSchema) }),
]);
export type UploadNotification = z.infer<typeof uploadNotificationSchema>;
export type UploadRecord = z.infer<typeof recordSchema>;

/** S3 URL-encodes keys in notifications, spaces as `+`. */
export function decodeS3Key(key: string): string | undefined {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

const UPLOAD_KEY = /^uploads\/([^/]+)\.zip$/;

/** The job id of an upload key, only for exactly `uploads/{jobId}.zip` with a valid id. */
export function jobIdOfUploadKey(key: string): string | undefined {
  const match = UPLOAD_KEY.exec(key);
  if (!match || !JOB_ID_PATTERN.test(match[1])) return undefined;
  return UploadLayout.key(match[1]) === key ? match[1] : undefined;
}
