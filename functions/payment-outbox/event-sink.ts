import type { EventEnvelope } from '../shared/envelope';

/** What a sink reports back: the events it did not take (retryable or not), by event id. */
export interface SinkResult {
  readonly failed: ReadonlyArray<{ readonly eventId: string; readonly reason: string }>;
}

/**
 * Where the outbox publisher sends events. EventBridge is the one sink today; a second
 * (e.g. Kafka) implements this and is added to the publisher's list. A sink reports
 * per-event failures in its result and throws only when the whole call failed.
 */
export interface EventSink {
  readonly name: string;
  publish(events: ReadonlyArray<EventEnvelope<unknown>>): Promise<SinkResult>;
}
