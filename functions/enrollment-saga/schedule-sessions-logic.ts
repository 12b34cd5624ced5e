import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { EnrollmentEvents, sagaFact } from './enrollment-events';
import { allocationId, allocationKey } from './enrollment-items';
import type { SagaInput, SagaServices } from './saga-types';
import { createSessions, markFullyScheduled, sessionAt } from './session-window';

/**
 * Step 3. The rolling window: only the first `window` sessions of `total` are created now
 * (the daily top-up keeps the window full), each unique per (allocation, date, time).
 */
export async function scheduleSessions(services: SagaServices, input: SagaInput) {
  const id = allocationId(input.sagaId);
  const { Item: allocation } = await services.db.send(
    new GetCommand({ TableName: services.tableName, Key: allocationKey(id), ConsistentRead: true }),
  );
  if (!allocation) throw new Error(`Allocation ${id} not found: schedule-sessions runs after allocate-trainer`);
  const count = Math.min(services.plan.window, allocation.totalSessions);
  const sessions = Array.from({ length: count }, (_, k) => sessionAt(allocation.startDate, k, services));
  const created = await createSessions(services, id, sessions);
  if (count >= allocation.totalSessions) await markFullyScheduled(services, id);
  return {
    allocationId: id,
    created,
    scheduled: sessions.length,
    sessions,
    event: sagaFact(input.sagaId, EnrollmentEvents.SESSIONS_SCHEDULED, allocation.createdAt, {
      allocationId: id, studentId: input.studentId, courseId: input.courseId, sessions, totalSessions: allocation.totalSessions,
    }),
  };
}
