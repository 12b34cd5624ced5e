import { allocateTrainer } from './allocate-trainer-logic';
import { sagaInputSchema } from './saga-input-schema';
import { sagaServicesOf } from './saga-services';
import { EnrollmentSagaEnv as E, EnrollmentSagaHandlers } from '../../lib/enrollment-saga/contract';
import { readConfig } from '../shared/config';
import { createLogger } from '../shared/logger';
import { taskHandler } from '../shared/task-handler';

const contract = EnrollmentSagaHandlers.allocateTrainer;
const config = readConfig(contract.environment);
const services = sagaServicesOf(config);

/** Saga step task: see allocate-trainer-logic.ts. */
export const handler = taskHandler(
  { logger: createLogger(contract.serviceName), schema: sagaInputSchema, step: 'allocate-trainer', idempotencyTableName: config[E.IDEMPOTENCY_TABLE_NAME] },
  (input) => allocateTrainer(services, input),
);
