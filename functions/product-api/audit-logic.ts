import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { ProductChange } from './product-schema';

export interface AuditServices {
  readonly s3: S3Client;
  readonly bucketName: string;
}

/** Deterministic per change, so a redelivery rewrites the same object instead of adding one. */
export const auditKey = (change: ProductChange) =>
  `changes/${change.payload.productId}/${change.payload.acceptedAt}-${change.eventId}.json`;

export async function auditChange(services: AuditServices, change: ProductChange): Promise<{ key: string }> {
  const key = auditKey(change);
  await services.s3.send(new PutObjectCommand({
    Bucket: services.bucketName,
    Key: key,
    Body: JSON.stringify(change),
    ContentType: 'application/json',
  }));
  return { key };
}
