import type { EventEnvelope } from './envelope';

/** What a sink reports back: the events it did not take (retryable or not), by event id. */
export interface SinkResult {
  readonly failed: ReadonlyArray<{ readonly eventId: string; readonly reason: string }>;
}

/**
 * Where a publisher sends events (PaymentOutbox's outbox publisher and replay today).
 * EventBridge is the one sink the kit has ({@link EventBridgeSink} in `eventbridge-sink.ts`);
 * a second (e.g. Kafka) implements this and joins the publisher's list. A sink reports
 * per-event failures in its result and throws only when the whole call failed.
 */
export interface EventSink {
  readonly name: string;
  publish(events: ReadonlyArray<EventEnvelope<unknown>>): Promise<SinkResult>;
}
