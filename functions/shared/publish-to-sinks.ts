import type { EventEnvelope } from './envelope';
import type { EventSink } from './event-sink';

/**
 * One event to publish, with the stream sequence number of the record it came from (stream
 * publishers report the earliest unpublished record as their batch item failure).
 */
export interface SequencedEvent<P = unknown> {
  readonly sequenceNumber: string;
  readonly envelope: EventEnvelope<P>;
}

export interface PublishOptions {
  readonly sinks: ReadonlyArray<EventSink>;
  /** Attempts per sink inside one invocation before the record is handed back to Lambda. */
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface PublishReport {
  readonly published: number;
  /** Events some sink still refused after every attempt, with the last reason. */
  readonly failed: ReadonlyArray<{ readonly sequenceNumber: string; readonly eventId: string; readonly reason: string }>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Publishes every record to every sink; only the entries a sink refused are sent to it
 * again (exponential backoff, full jitter). An event counts as published only when every
 * sink took it: a refused one is reported, never counted. PaymentOutbox's outbox publisher
 * and replay and BuildPipeline's event publisher share it.
 */
export async function publishToSinks(records: ReadonlyArray<SequencedEvent>, options: PublishOptions): Promise<PublishReport> {
  const maxAttempts = options.maxAttempts ?? 3;
  const baseDelayMs = options.baseDelayMs ?? 100;
  const sleep = options.sleep ?? defaultSleep;
  const lastFailure = new Map<string, string>(); // eventId → why some sink refused it
  for (const sink of options.sinks) {
    let pending = records.map((r) => r.envelope);
    let reasons = new Map<string, string>();
    for (let attempt = 1; pending.length > 0 && attempt <= maxAttempts; attempt++) {
      if (attempt > 1) await sleep(Math.random() * baseDelayMs * 2 ** (attempt - 1));
      const { failed } = await sink.publish(pending);
      reasons = new Map(failed.map((f) => [f.eventId, `${sink.name}: ${f.reason}`]));
      pending = pending.filter((e) => reasons.has(e.eventId));
    }
    for (const e of pending) lastFailure.set(e.eventId, reasons.get(e.eventId)!);
  }
  const failed = records
    .filter((r) => lastFailure.has(r.envelope.eventId))
    .map((r) => ({ sequenceNumber: r.sequenceNumber, eventId: r.envelope.eventId, reason: lastFailure.get(r.envelope.eventId)! }));
  return { published: records.length - failed.length, failed };
}
