import { applyChange, type ApplyServices } from './apply-logic';
import { productChangeSchema, type ProductChange } from './product-schema';
import { ProductApiHandlers } from '../../lib/product-api/contract';
import { dynamoDbClient, documentClient } from '../shared/clients/dynamodb';
import { readConfig } from '../shared/config';
import { createEventIdempotency } from '../shared/idempotency';
import { createLogger } from '../shared/logger';
import { sqsBatchHandler } from '../shared/sqs-handler';

const contract = ProductApiHandlers.writer;
const config = readConfig(contract.environment);
const logger = createLogger(contract.serviceName);
const services: ApplyServices = { db: documentClient, tableName: config.PRODUCTS_TABLE_NAME };
const idempotency = createEventIdempotency(contract.serviceName, dynamoDbClient, config.IDEMPOTENCY_TABLE_NAME);

// Keyed on eventId: a redelivered change returns the stored outcome without writing again.
const applyOnce = idempotency.wrap(async (change: ProductChange) => {
  const result = await applyChange(services, change);
  if (result.outcome === 'stale') logger.info('Stale or duplicate change skipped', { ...result });
  return result;
});

/** The writer: SQS FIFO consumer that applies accepted product changes to the table. */
export const handler = sqsBatchHandler(
  { logger, schema: productChangeSchema, beforeBatch: (context) => idempotency.registerLambdaContext(context) },
  (change: ProductChange) => applyOnce(change),
);
