import { parseListQuery } from './list-query';
import { productIdSchema } from './product-schema';
import { getProduct, listProducts, type ReadServices } from './read-logic';
import { ProductApiHandlers } from '../../lib/product-api/contract';
import { documentClient } from '../shared/clients/dynamodb';
import { readConfig } from '../shared/config';
import { jsonResponse } from '../shared/errors';
import { httpHandler } from '../shared/http-handler';
import { createLogger } from '../shared/logger';
import { pageTokenKeyFromSecret } from '../shared/page-token-secret';
import { validate } from '../shared/validation';

const contract = ProductApiHandlers.read;
const config = readConfig(contract.environment);
const logger = createLogger(contract.serviceName);
const services: ReadServices = {
  db: documentClient,
  tableName: config.PRODUCTS_TABLE_NAME,
  // Read once per container (and hourly after), and only by a list that pages.
  pageTokenKey: pageTokenKeyFromSecret(config.PAGE_TOKEN_SECRET_ARN),
};

/** GET /v1.0/products and GET /v1.0/products/{productId}, straight from DynamoDB. */
export const handler = httpHandler(logger, async ({ event, correlationId }) => {
  const rawId = event.pathParameters?.productId;
  if (rawId !== undefined) {
    const productId = validate(productIdSchema, rawId, "path parameter 'productId'");
    return jsonResponse(200, await getProduct(services, productId), correlationId);
  }
  const page = await listProducts(services, parseListQuery(event.queryStringParameters));
  return jsonResponse(200, page, correlationId);
});
