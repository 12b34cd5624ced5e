import { compensate } from './compensate-logic';
import { compensationInputSchema } from './saga-input-schema';
import { sagaServices } from './saga-services';
import { createLogger } from '../shared/logger';
import { taskHandler } from '../shared/task-handler';

/** Compensation task: see compensate-logic.ts. */
export const handler = taskHandler(
  { logger: createLogger('enrollment-saga-compensate'), schema: compensationInputSchema, step: 'compensate' },
  (input) => compensate(sagaServices, input),
);
