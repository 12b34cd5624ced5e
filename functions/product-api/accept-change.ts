import { acceptCreate, acceptDelete, acceptUpdate, type AcceptServices } from './accept-logic';
import { callerOf, parseCallerIdentitySource } from './caller-identity';
import { productIdSchema, productInputSchema } from './product-schema';
import { ProductApiHandlers } from '../../lib/product-api/contract';
import { documentClient } from '../shared/clients/dynamodb';
import { snsClient } from '../shared/clients/sns';
import { readConfig } from '../shared/config';
import { MethodNotAllowedError, jsonResponse } from '../shared/errors';
import { httpHandler } from '../shared/http-handler';
import { createLogger } from '../shared/logger';
import { parseJsonBody, validate } from '../shared/validation';

const contract = ProductApiHandlers.accept;
const config = readConfig(contract.environment);
const logger = createLogger(contract.serviceName);
const services: AcceptServices = {
  db: documentClient,
  sns: snsClient,
  tableName: config.PRODUCTS_TABLE_NAME,
  topicArn: config.CHANGES_TOPIC_ARN,
};
const identitySource = parseCallerIdentitySource(config.CALLER_IDENTITY);

/**
 * POST/PUT/DELETE on /v1.0/products: validate, publish the change to the FIFO topic and
 * answer 202 (204 for delete); the writer applies it asynchronously. Nothing invalid is published.
 */
export const handler = httpHandler(logger, async ({ event, correlationId }) => {
  const rawId = event.pathParameters?.productId;
  const method = event.httpMethod;
  const request = { correlationId, caller: callerOf(event, identitySource) };
  if (rawId === undefined) {
    if (method !== 'POST') throw new MethodNotAllowedError();
    const product = validate(productInputSchema, parseJsonBody(event.body, event.isBase64Encoded));
    const accepted = await acceptCreate(services, product, request);
    logger.info('Create accepted', { ...accepted, caller: request.caller });
    return jsonResponse(202, accepted, correlationId, { Location: `/v1.0/products/${accepted.productId}` });
  }
  const productId = validate(productIdSchema, rawId, "path parameter 'productId'");
  if (method === 'PUT') {
    const product = validate(productInputSchema, parseJsonBody(event.body, event.isBase64Encoded));
    const accepted = await acceptUpdate(services, productId, product, request);
    logger.info('Update accepted', { ...accepted, caller: request.caller });
    return jsonResponse(202, accepted, correlationId, { Location: `/v1.0/products/${productId}` });
  }
  if (method === 'DELETE') {
    const accepted = await acceptDelete(services, productId, request);
    logger.info('Delete accepted', { ...accepted, caller: request.caller });
    return jsonResponse(204, undefined, correlationId);
  }
  throw new MethodNotAllowedError();
});
