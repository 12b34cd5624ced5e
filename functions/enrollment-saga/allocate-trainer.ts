import { allocateTrainer } from './allocate-trainer-logic';
import { sagaInputSchema } from './saga-input-schema';
import { sagaServices } from './saga-services';
import { createLogger } from '../shared/logger';
import { taskHandler } from '../shared/task-handler';

/** Saga step task: see allocate-trainer-logic.ts. */
export const handler = taskHandler(
  { logger: createLogger('enrollment-saga-allocate-trainer'), schema: sagaInputSchema, step: 'allocate-trainer' },
  (input) => allocateTrainer(sagaServices, input),
);
