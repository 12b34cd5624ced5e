import { createPurchase } from './create-purchase-logic';
import { sagaInputSchema } from './saga-input-schema';
import { sagaServices } from './saga-services';
import { createLogger } from '../shared/logger';
import { taskHandler } from '../shared/task-handler';

/** Saga step task: see create-purchase-logic.ts. */
export const handler = taskHandler(
  { logger: createLogger('enrollment-saga-create-purchase'), schema: sagaInputSchema, step: 'create-purchase' },
  (input) => createPurchase(sagaServices, input),
);
