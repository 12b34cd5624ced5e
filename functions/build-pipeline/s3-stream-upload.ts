import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, PutObjectCommand,
  UploadPartCommand, type CompletedPart, type S3Client,
} from '@aws-sdk/client-s3';

export interface StreamUploadTarget {
  readonly bucket: string;
  readonly key: string;
  readonly contentType: string;
  /** Bytes per part (S3: at least 5 MiB but for the last). @default 8 MiB */
  readonly partBytes?: number;
}

export interface StreamUploadResult {
  readonly size: number;
  /** Hex SHA-256 of the bytes written. */
  readonly sha256: string;
  /** 0 when the body fitted in one PutObject. */
  readonly parts: number;
}

/**
 * Writes a stream of unknown length to S3 with at most two parts in memory (one filling,
 * one uploading; the stream is paused meanwhile). A body smaller than one part is one
 * PutObject; a larger one a multipart upload with plain SDK calls, aborted on failure
 * (the bucket's AbortIncompleteMultipartUpload rule is the backstop if the abort fails too).
 */
export async function uploadStream(
  s3: S3Client, target: StreamUploadTarget, body: AsyncIterable<Buffer> | Iterable<Buffer>,
): Promise<StreamUploadResult> {
  const partBytes = Math.max(5 * 1024 * 1024, target.partBytes ?? 8 * 1024 * 1024);
  const hash = createHash('sha256');
  let size = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let uploadId: string | undefined;
  let uploading: Promise<void> = Promise.resolve();
  const parts: CompletedPart[] = [];
  const { bucket: Bucket, key: Key } = target;

  const sendPart = async (bytes: Buffer) => {
    await uploading; // one part in flight: memory stays at two parts
    uploadId ??= (await s3.send(new CreateMultipartUploadCommand({ Bucket, Key, ContentType: target.contentType }))).UploadId!;
    const PartNumber = parts.length + 1;
    const slot: CompletedPart = { PartNumber };
    parts.push(slot);
    uploading = s3.send(new UploadPartCommand({ Bucket, Key, UploadId: uploadId, PartNumber, Body: bytes }))
      // The part's checksum goes back with it, as lib-storage does (the SDK adds one to every part by default).
      .then((r) => {
        Object.assign(slot, Object.fromEntries(Object.entries({
          ETag: r.ETag,
          ChecksumCRC32: r.ChecksumCRC32,
          ChecksumCRC32C: r.ChecksumCRC32C,
          ChecksumCRC64NVME: r.ChecksumCRC64NVME,
          ChecksumSHA1: r.ChecksumSHA1,
          ChecksumSHA256: r.ChecksumSHA256,
        }).filter(([, v]) => v !== undefined)));
      });
    uploading.catch(() => undefined); // awaited later; not an unhandled rejection meanwhile
  };

  try {
    for await (const chunk of body) {
      hash.update(chunk);
      size += chunk.length;
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= partBytes) {
        const bytes = Buffer.concat(pending);
        pending = [];
        pendingBytes = 0;
        await sendPart(bytes);
      }
    }
    const rest = Buffer.concat(pending);
    if (uploadId === undefined && parts.length === 0) {
      await s3.send(new PutObjectCommand({ Bucket, Key, Body: rest, ContentType: target.contentType }));
      return { size, sha256: hash.digest('hex'), parts: 0 };
    }
    if (rest.length > 0) await sendPart(rest);
    await uploading;
    await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
    return { size, sha256: hash.digest('hex'), parts: parts.length };
  } catch (error) {
    if (uploadId !== undefined) {
      await uploading.catch(() => undefined);
      await s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId: uploadId })).catch(() => undefined);
    }
    throw error;
  }
}
