import { deterministicUuid } from '../shared/deterministic-id';
import type { EventEnvelope } from '../shared/envelope';

/** Facts the enrollment saga emits, one per step, each once per saga. */
export const EnrollmentEvents = {
  PURCHASE_CREATED: 'PurchaseCreated',
  TRAINER_ALLOCATED: 'TrainerAllocated',
  SESSIONS_SCHEDULED: 'SessionsScheduled',
  STUDENT_CACHE_INVALIDATED: 'StudentCacheInvalidated',
  ENROLLMENT_COMPLETED: 'EnrollmentCompleted',
  ENROLLMENT_FAILED: 'EnrollmentFailed',
} as const;
export type EnrollmentEventType = (typeof EnrollmentEvents)[keyof typeof EnrollmentEvents];

export const ENROLLMENT_EVENT_SOURCE = 'cdk-event-services.enrollment-saga';

/**
 * The envelope of a saga fact: its id is derived from (saga, type) and its time is the
 * stored record's, so a step re-run after a crash emits the identical event.
 */
export function sagaFact<P>(sagaId: string, eventType: EnrollmentEventType, occurredAt: string, payload: P): EventEnvelope<P> {
  return {
    eventId: deterministicUuid(`${sagaId}:${eventType}`),
    eventType,
    correlationId: sagaId,
    occurredAt,
    source: ENROLLMENT_EVENT_SOURCE,
    version: 1,
    payload,
  };
}
