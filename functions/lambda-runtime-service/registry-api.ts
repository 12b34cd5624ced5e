import {
  etagOf, functionLink, listPage, parseFunctionName, parseIfMatch, patchFunction, readFunction, register, removeFunction,
  requireJsonContentType, type RegistryApiServices,
} from './registry-api-logic';
import { readFunctionLimits } from './registry-store';
import { LambdaRuntimeEnv, LambdaRuntimeHandlers } from '../../lib/lambda-runtime-service/contract';
import { documentClient } from '../shared/clients/dynamodb';
import { readConfig } from '../shared/config';
import { MethodNotAllowedError, jsonResponse } from '../shared/errors';
import { getHeader } from '../shared/headers';
import { httpHandler } from '../shared/http-handler';
import { createLogger } from '../shared/logger';
import { pageTokenKeyFromSecret } from '../shared/page-token-secret';
import { parseJsonBody } from '../shared/validation';

const contract = LambdaRuntimeHandlers.registryApi;
const config = readConfig(contract.environment);
const logger = createLogger(contract.serviceName);
const services: RegistryApiServices = {
  db: documentClient,
  tableName: config.FUNCTION_REGISTRY_TABLE_NAME,
  now: () => new Date(),
  // Parsed at init: a bad value fails the cold start, naming the variable.
  limits: readFunctionLimits(config.FUNCTION_LIMITS, LambdaRuntimeEnv.FUNCTION_LIMITS),
  pageTokenKey: pageTokenKeyFromSecret(config.PAGE_TOKEN_SECRET_ARN),
};

/** POST/GET /v1.0/functions, GET/PATCH/DELETE /v1.0/functions/{name}. */
export const handler = httpHandler(logger, async ({ event, correlationId }) => {
  const rawName = event.pathParameters?.name;
  const ifMatch = getHeader(event.headers, 'if-match');
  const body = () => {
    requireJsonContentType(getHeader(event.headers, 'content-type'));
    return parseJsonBody(event.body, event.isBase64Encoded);
  };

  if (rawName === undefined) {
    if (event.httpMethod === 'GET') return jsonResponse(200, await listPage(event.queryStringParameters, services), correlationId);
    if (event.httpMethod !== 'POST') throw new MethodNotAllowedError();
    const record = await register(body(), services);
    logger.info('Function registered', { function: record.name, version: record.version });
    return jsonResponse(201, record, correlationId, { Location: functionLink(record.name), ETag: etagOf(record) });
  }

  // The name is checked before anything else is read: a malformed one never reaches DynamoDB.
  const name = parseFunctionName(rawName);
  switch (event.httpMethod) {
    case 'GET': {
      const record = await readFunction(name, services);
      return jsonResponse(200, record, correlationId, { ETag: etagOf(record) });
    }
    case 'PATCH': {
      const expected = parseIfMatch(ifMatch, true)!;
      const record = await patchFunction(name, body(), expected, services);
      logger.info('Function updated', { function: name, version: record.version });
      return jsonResponse(200, record, correlationId, { ETag: etagOf(record) });
    }
    case 'DELETE': {
      const record = await removeFunction(name, parseIfMatch(ifMatch, false), services);
      // 202: the function's AWS resources are purged asynchronously (from the table's stream).
      logger.info('Function deleted', { function: name, version: record.version });
      return jsonResponse(202, record, correlationId, { ETag: etagOf(record) });
    }
    default:
      throw new MethodNotAllowedError();
  }
});
