import { sagaInputSchema } from './saga-input-schema';
import { sagaServicesOf } from './saga-services';
import { scheduleSessions } from './schedule-sessions-logic';
import { EnrollmentSagaEnv as E, EnrollmentSagaHandlers } from '../../lib/enrollment-saga/contract';
import { readConfig } from '../shared/config';
import { createLogger } from '../shared/logger';
import { taskHandler } from '../shared/task-handler';

const contract = EnrollmentSagaHandlers.scheduleSessions;
const config = readConfig(contract.environment);
const services = sagaServicesOf(config);

/** Saga step task: see schedule-sessions-logic.ts. */
export const handler = taskHandler(
  { logger: createLogger(contract.serviceName), schema: sagaInputSchema, step: 'schedule-sessions', idempotencyTableName: config[E.IDEMPOTENCY_TABLE_NAME] },
  (input) => scheduleSessions(services, input),
);
