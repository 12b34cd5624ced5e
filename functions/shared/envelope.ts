import { randomUUID } from 'node:crypto';
import * as z from 'zod/mini';

/** The one envelope every event in the library travels in (README, "Shared handler kit"): consumers dedupe on `eventId`. */
export interface EventEnvelope<T> {
  readonly eventId: string;
  readonly eventType: string;
  readonly correlationId: string;
  readonly occurredAt: string;
  readonly source: string;
  readonly version: number;
  readonly payload: T;
}

export function createEvent<T>(input: { eventType: string; correlationId: string; source: string; payload: T; version?: number }): EventEnvelope<T> {
  return {
    eventId: randomUUID(), // made once, where the fact happens; consumers dedupe on it
    eventType: input.eventType,
    correlationId: input.correlationId,
    occurredAt: new Date().toISOString(),
    source: input.source,
    version: input.version ?? 1,
    payload: input.payload,
  };
}

/** Envelope validator; the payload schema is the consumer's. */
export function envelopeSchema<P extends z.core.$ZodType>(payload: P) {
  return z.object({
    eventId: z.uuid(),
    eventType: z.string().check(z.minLength(1), z.maxLength(100)),
    correlationId: z.string().check(z.minLength(1), z.maxLength(128)),
    occurredAt: z.string().check(z.minLength(1), z.maxLength(40)),
    source: z.string().check(z.minLength(1), z.maxLength(200)),
    version: z.number(),
    payload,
  });
}
