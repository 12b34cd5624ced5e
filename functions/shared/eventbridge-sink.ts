import { PutEventsCommand, type EventBridgeClient, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { EventEnvelope } from './envelope';
import type { EventSink, SinkResult } from './event-sink';

// PutEvents limits: 10 entries and 256 KB per request (entry size as EventBridge counts it).
const MAX_ENTRIES = 10;
export const MAX_REQUEST_BYTES = 256 * 1024;

function entrySize(entry: PutEventsRequestEntry): number {
  const bytes = (s?: string) => (s ? Buffer.byteLength(s, 'utf8') : 0);
  return 14 /* Time */ + bytes(entry.Source) + bytes(entry.DetailType) + bytes(entry.Detail) + bytes(entry.EventBusName);
}

/**
 * Envelopes to EventBridge: `source` and `detail-type` from the envelope, the envelope as
 * `detail`. The function's role needs `events:PutEvents` on the bus, which the constructs
 * grant with an `events:source` condition naming their own source: an envelope with
 * another source is refused by IAM.
 */
export class EventBridgeSink implements EventSink {
  readonly name = 'eventbridge';

  constructor(private readonly client: EventBridgeClient, private readonly eventBusName: string) {}

  async publish(events: ReadonlyArray<EventEnvelope<unknown>>): Promise<SinkResult> {
    const failed: Array<{ eventId: string; reason: string }> = [];
    let chunk: Array<{ eventId: string; entry: PutEventsRequestEntry }> = [];
    let chunkBytes = 0;
    const flush = async () => {
      if (chunk.length === 0) return;
      const sent = chunk;
      chunk = [];
      chunkBytes = 0;
      let Entries: ReadonlyArray<{ EventId?: string; ErrorCode?: string; ErrorMessage?: string }>;
      try {
        ({ Entries = [] } = await this.client.send(new PutEventsCommand({ Entries: sent.map((s) => s.entry) })));
      } catch (error) {
        // The whole request failed (throttled, 5xx, network): every entry in it is retried.
        for (const s of sent) failed.push({ eventId: s.eventId, reason: `${(error as Error).name}: ${(error as Error).message}` });
        return;
      }
      // Result entries line up with request entries by position.
      sent.forEach((s, i) => {
        const result = Entries[i];
        if (!result?.EventId) failed.push({ eventId: s.eventId, reason: `${result?.ErrorCode ?? 'NoResult'}: ${result?.ErrorMessage ?? 'no entry result'}` });
      });
    };
    for (const event of events) {
      const entry = { EventBusName: this.eventBusName, Source: event.source, DetailType: event.eventType, Detail: JSON.stringify(event) };
      const size = entrySize(entry);
      if (size > MAX_REQUEST_BYTES) {
        failed.push({ eventId: event.eventId, reason: `Entry of ${size} bytes exceeds the ${MAX_REQUEST_BYTES}-byte PutEvents limit` });
        continue;
      }
      if (chunk.length === MAX_ENTRIES || chunkBytes + size > MAX_REQUEST_BYTES) await flush();
      chunk.push({ eventId: event.eventId, entry });
      chunkBytes += size;
    }
    await flush();
    return { failed };
  }
}
