import { sessionPlanFromEnv } from './saga-input-schema';
import type { SagaServices } from './saga-types';
import { documentClient } from '../shared/clients/dynamodb';

/** The services every saga handler uses, from its environment (one per container). */
export const sagaServices: SagaServices = {
  db: documentClient,
  tableName: process.env.ENROLLMENT_TABLE_NAME ?? '',
  now: () => new Date(),
  plan: sessionPlanFromEnv(),
};
