import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { correlationIdFromHeaders } from './correlation';
import { HttpError, toProblemResponse } from './errors';

export interface HttpRequest {
  readonly event: APIGatewayProxyEvent;
  readonly context: Context;
  readonly correlationId: string;
}

export type HttpLogic = (request: HttpRequest) => Promise<APIGatewayProxyResult>;

/**
 * The HTTP pipeline: logger with Lambda context and correlation id, then the logic, and
 * every error mapped to a JSON problem response (4xx at warn, 5xx at error, no stacks out).
 */
export function httpHandler(logger: Logger, logic: HttpLogic) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    // resetKeys: a correlation id appended now must not leak into the next warm invocation.
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event, context) => {
      const correlationId = correlationIdFromHeaders(event.headers);
      logger.appendKeys({ correlationId });
      try {
        return await logic({ event, context, correlationId });
      } catch (error) {
        const response = toProblemResponse(error, correlationId);
        if (error instanceof HttpError && response.statusCode < 500) {
          logger.warn('Request rejected', { statusCode: response.statusCode, reason: error.message });
        } else {
          logger.error('Request failed', error as Error);
        }
        return response;
      }
    });
}
