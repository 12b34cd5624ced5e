import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { authorize, issuerKeys, parseAudiences, parseIssuer, TokenRejected, type AuthorizerPolicy, type AuthorizerSettings } from './jwt-authorizer-logic';
import { LambdaRuntimeEnv as E, LambdaRuntimeHandlers } from '../../lib/lambda-runtime-service/contract';
import { readConfig } from '../shared/config';
import { createLogger } from '../shared/logger';

const contract = LambdaRuntimeHandlers.jwtAuthorizer;
const config = readConfig(contract.environment);
const logger = createLogger(contract.serviceName);
const issuer = parseIssuer(E.JWT_ISSUER, config.JWT_ISSUER);
const settings: AuthorizerSettings = {
  issuer,
  audiences: parseAudiences(E.JWT_AUDIENCE, config.JWT_AUDIENCE),
  // Created once per container: discovery and the JWKS are fetched once and cached.
  keys: issuerKeys(issuer),
};

/**
 * API Gateway REST TOKEN authorizer: an Allow policy on the stage for a valid JWT of the
 * issuer. A refused token throws exactly `Unauthorized`, the message API Gateway turns
 * into 401; the reason is logged, the token never. A key fetch failure throws another
 * error (API Gateway answers 500): an outage is not the caller's bad token.
 */
export const handler = middy<APIGatewayTokenAuthorizerEvent, AuthorizerPolicy>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => {
    try {
      const policy = await authorize(event, settings);
      logger.debug('token accepted', { sub: policy.principalId });
      return policy;
    } catch (err) {
      if (err instanceof TokenRejected) {
        logger.warn('token refused', { reason: err.message });
        throw new Error('Unauthorized');
      }
      logger.error('issuer keys unavailable', { error: err as Error });
      throw new Error('Authorizer unavailable');
    }
  });
