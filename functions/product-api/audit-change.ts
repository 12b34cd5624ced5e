import { auditChange, type AuditServices } from './audit-logic';
import { productChangeSchema, type ProductChange } from './product-schema';
import { ProductApiHandlers } from '../../lib/product-api/contract';
import { s3Client } from '../shared/clients/s3';
import { readConfig } from '../shared/config';
import { createLogger } from '../shared/logger';
import { sqsBatchHandler } from '../shared/sqs-handler';

const contract = ProductApiHandlers.audit;
const config = readConfig(contract.environment);
const logger = createLogger(contract.serviceName);
const services: AuditServices = { s3: s3Client, bucketName: config.AUDIT_BUCKET_NAME };

/**
 * The auditor: one S3 object per change. The key is deterministic, so a redelivery rewrites
 * the same object and no idempotency table is needed.
 */
export const handler = sqsBatchHandler({ logger, schema: productChangeSchema }, (change: ProductChange) => auditChange(services, change));
