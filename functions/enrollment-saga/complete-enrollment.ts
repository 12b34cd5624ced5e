import { completeEnrollment } from './complete-enrollment-logic';
import { sagaInputSchema } from './saga-input-schema';
import { sagaServicesOf } from './saga-services';
import { EnrollmentSagaEnv as E, EnrollmentSagaHandlers } from '../../lib/enrollment-saga/contract';
import { readConfig } from '../shared/config';
import { createLogger } from '../shared/logger';
import { taskHandler } from '../shared/task-handler';

const contract = EnrollmentSagaHandlers.completeEnrollment;
const config = readConfig(contract.environment);
const services = sagaServicesOf(config);

/** Saga step task: see complete-enrollment-logic.ts. */
export const handler = taskHandler(
  { logger: createLogger(contract.serviceName), schema: sagaInputSchema, step: 'complete-enrollment', idempotencyTableName: config[E.IDEMPOTENCY_TABLE_NAME] },
  (input) => completeEnrollment(services, input),
);
