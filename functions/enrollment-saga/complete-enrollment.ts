import { completeEnrollment } from './complete-enrollment-logic';
import { sagaInputSchema } from './saga-input-schema';
import { sagaServices } from './saga-services';
import { createLogger } from '../shared/logger';
import { taskHandler } from '../shared/task-handler';

/** Saga step task: see complete-enrollment-logic.ts. */
export const handler = taskHandler(
  { logger: createLogger('enrollment-saga-complete-enrollment'), schema: sagaInputSchema, step: 'complete-enrollment' },
  (input) => completeEnrollment(sagaServices, input),
);
