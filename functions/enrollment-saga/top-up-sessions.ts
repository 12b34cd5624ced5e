import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { sagaServices } from './saga-services';
import { topUpSessions } from './top-up-sessions-logic';
import { createLogger } from '../shared/logger';

const logger = createLogger('enrollment-saga-top-up');

/** Daily schedule: keeps every active allocation's session window full (safe to run twice). */
export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async () => {
    const result = await topUpSessions(sagaServices);
    logger.info('Session top-up done', { ...result });
    return result;
  });
