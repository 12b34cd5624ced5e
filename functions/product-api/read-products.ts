import { parseListQuery } from './list-query';
import { productIdSchema } from './product-schema';
import { getProduct, listProducts, type ReadServices } from './read-logic';
import { documentClient } from '../shared/clients/dynamodb';
import { jsonResponse } from '../shared/errors';
import { httpHandler } from '../shared/http-handler';
import { createLogger } from '../shared/logger';
import { validate } from '../shared/validation';

const logger = createLogger('product-api-read');
const services: ReadServices = { db: documentClient, tableName: process.env.PRODUCTS_TABLE_NAME ?? '' };

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
