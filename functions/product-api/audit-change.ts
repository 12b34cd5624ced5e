import { auditChange, type AuditServices } from './audit-logic';
import { productChangeSchema, type ProductChange } from './product-schema';
import { s3Client } from '../shared/clients/s3';
import { createLogger } from '../shared/logger';
import { sqsBatchHandler } from '../shared/sqs-handler';

const logger = createLogger('product-api-audit');
const services: AuditServices = { s3: s3Client, bucketName: process.env.AUDIT_BUCKET_NAME ?? '' };

/**
 * The auditor: one S3 object per change. The key is deterministic, so a redelivery rewrites
 * the same object and no idempotency table is needed.
 */
export const handler = sqsBatchHandler({ logger, schema: productChangeSchema }, (change: ProductChange) => auditChange(services, change));
