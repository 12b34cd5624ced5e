import { sagaInputSchema } from './saga-input-schema';
import { sagaServices } from './saga-services';
import { scheduleSessions } from './schedule-sessions-logic';
import { createLogger } from '../shared/logger';
import { taskHandler } from '../shared/task-handler';

/** Saga step task: see schedule-sessions-logic.ts. */
export const handler = taskHandler(
  { logger: createLogger('enrollment-saga-schedule-sessions'), schema: sagaInputSchema, step: 'schedule-sessions' },
  (input) => scheduleSessions(sagaServices, input),
);
