import { ENROLLMENT_EVENT_SOURCE, EnrollmentEvents, type EnrollmentEventType } from '../../lib/enrollment-saga/contract';
import { deterministicUuid } from '../shared/deterministic-id';
import type { EventEnvelope } from '../shared/envelope';

export { ENROLLMENT_EVENT_SOURCE, EnrollmentEvents, type EnrollmentEventType };

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
