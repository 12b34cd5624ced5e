import { readFunctionLimits } from './registry-store';
import { rollbackFunction, type RollbackServices } from './rollback-logic';
import { LambdaRuntimeEnv, LambdaRuntimeHandlers } from '../../lib/lambda-runtime-service/contract';
import { documentClient } from '../shared/clients/dynamodb';
import { lambdaClient } from '../shared/clients/lambda';
import { readConfig } from '../shared/config';
import { MethodNotAllowedError, jsonResponse } from '../shared/errors';
import { httpHandler } from '../shared/http-handler';
import { createLogger, logSink } from '../shared/logger';

const contract = LambdaRuntimeHandlers.rollback;
const config = readConfig(contract.environment);
const logger = createLogger(contract.serviceName);
const services: RollbackServices = {
  registry: {
    db: documentClient,
    tableName: config.FUNCTION_REGISTRY_TABLE_NAME,
    now: () => new Date(),
    // Parsed at init like the registry API's, so one bad value fails both cold starts alike.
    limits: readFunctionLimits(config.FUNCTION_LIMITS, LambdaRuntimeEnv.FUNCTION_LIMITS),
  },
  lambda: lambdaClient,
  prefix: config.FUNCTION_NAME_PREFIX,
  log: logSink(logger),
};

/** POST /v1.0/functions/{name}/rollback → 200 { name, lambdaVersion, buildId }. */
export const handler = httpHandler(logger, async ({ event, correlationId }) => {
  if (event.httpMethod !== 'POST') throw new MethodNotAllowedError();
  return jsonResponse(200, await rollbackFunction(event.pathParameters?.name, services), correlationId);
});
