import { compensate } from './compensate-logic';
import { compensationInputSchema } from './saga-input-schema';
import { sagaServicesOf } from './saga-services';
import { EnrollmentSagaEnv as E, EnrollmentSagaHandlers } from '../../lib/enrollment-saga/contract';
import { readConfig } from '../shared/config';
import { createLogger } from '../shared/logger';
import { taskHandler } from '../shared/task-handler';

const contract = EnrollmentSagaHandlers.compensate;
const config = readConfig(contract.environment);
const services = sagaServicesOf(config);

/** Compensation task: see compensate-logic.ts. */
export const handler = taskHandler(
  { logger: createLogger(contract.serviceName), schema: compensationInputSchema, step: 'compensate', idempotencyTableName: config[E.IDEMPOTENCY_TABLE_NAME] },
  (input) => compensate(services, input),
);
