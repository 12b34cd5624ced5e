import {
  listFunctionInvocations, parseInvocationId, readInvocation, readRuntimeSettings, type ReadInvocationsServices,
} from './read-invocations-logic';
import { LambdaRuntimeEnv, LambdaRuntimeHandlers } from '../../lib/lambda-runtime-service/contract';
import { documentClient } from '../shared/clients/dynamodb';
import { readConfig } from '../shared/config';
import { MethodNotAllowedError, jsonResponse } from '../shared/errors';
import { httpHandler } from '../shared/http-handler';
import { createLogger } from '../shared/logger';
import { pageTokenKeyFromSecret } from '../shared/page-token-secret';

const contract = LambdaRuntimeHandlers.readInvocations;
const config = readConfig(contract.environment);
const logger = createLogger(contract.serviceName);
const services: ReadInvocationsServices = {
  db: documentClient,
  tableName: config.INVOCATION_AUDIT_TABLE_NAME,
  // Parsed at init: a bad value fails the cold start, naming the variable.
  settings: readRuntimeSettings(config.RUNTIME_SETTINGS, LambdaRuntimeEnv.RUNTIME_SETTINGS),
  now: () => new Date(),
  pageTokenKey: pageTokenKeyFromSecret(config.PAGE_TOKEN_SECRET_ARN),
};

/** GET /v1.0/invocations/{id}, GET /v1.0/functions/{name}/invocations?from=&to=&limit=&nextToken=. */
export const handler = httpHandler(logger, async ({ event, correlationId }) => {
  if (event.httpMethod !== 'GET') throw new MethodNotAllowedError();
  const rawId = event.pathParameters?.id;
  // Checked before any read: a malformed id never reaches DynamoDB.
  if (rawId !== undefined) return jsonResponse(200, await readInvocation(parseInvocationId(rawId), services), correlationId);
  const name = event.pathParameters?.name ?? '';
  return jsonResponse(200, await listFunctionInvocations(name, event.queryStringParameters, services), correlationId);
});
