import { sagaServicesOf } from './saga-services';
import { topUpSessions } from './top-up-sessions-logic';
import { EnrollmentSagaHandlers } from '../../lib/enrollment-saga/contract';
import { readConfig } from '../shared/config';
import { scheduledHandler } from '../shared/invocation-handler';
import { createLogger } from '../shared/logger';

const contract = EnrollmentSagaHandlers.topUp;
const services = sagaServicesOf(readConfig(contract.environment));
const logger = createLogger(contract.serviceName);

/** Daily schedule: keeps every active allocation's session window full (safe to run twice). */
export const handler = scheduledHandler(logger, async () => {
  const result = await topUpSessions(services);
  logger.info('Session top-up done', { ...result });
  return result;
});
