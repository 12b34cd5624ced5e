import { createPurchase } from './create-purchase-logic';
import { sagaInputSchema } from './saga-input-schema';
import { sagaServicesOf } from './saga-services';
import { EnrollmentSagaEnv as E, EnrollmentSagaHandlers } from '../../lib/enrollment-saga/contract';
import { readConfig } from '../shared/config';
import { createLogger } from '../shared/logger';
import { taskHandler } from '../shared/task-handler';

const contract = EnrollmentSagaHandlers.createPurchase;
const config = readConfig(contract.environment);
const services = sagaServicesOf(config);

/** Saga step task: see create-purchase-logic.ts. */
export const handler = taskHandler(
  { logger: createLogger(contract.serviceName), schema: sagaInputSchema, step: 'create-purchase', idempotencyTableName: config[E.IDEMPOTENCY_TABLE_NAME] },
  (input) => createPurchase(services, input),
);
