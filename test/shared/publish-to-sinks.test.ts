import { randomUUID } from 'node:crypto';
import { createEvent } from '../../functions/shared/envelope';
import type { EventSink } from '../../functions/shared/event-sink';
import { publishToSinks } from '../../functions/shared/publish-to-sinks';

/** A second sink (the Kafka sink of a later issue) as the EventSink contract sees it. */
function recordingSink(name: string, refuse: (eventId: string, attempt: number) => boolean): EventSink & { taken: string[]; attempts: number } {
  const sink = {
    name,
    taken: [] as string[],
    attempts: 0,
    async publish(events: ReadonlyArray<{ eventId: string }>) {
      sink.attempts++;
      const failed = events.filter((e) => refuse(e.eventId, sink.attempts)).map((e) => ({ eventId: e.eventId, reason: 'refused' }));
      sink.taken.push(...events.filter((e) => !failed.some((f) => f.eventId === e.eventId)).map((e) => e.eventId));
      return { failed };
    },
  };
  return sink;
}

const records = Array.from({ length: 3 }, (_, i) => ({
  sequenceNumber: String(100 + i),
  envelope: createEvent({ eventType: 'PaymentSucceeded', correlationId: randomUUID(), source: 'test', payload: {} }),
}));
const noSleep = async () => undefined;

describe('publishToSinks with several sinks', () => {
  test('an event is published only when every sink took it; the refusing sink names the reason', async () => {
    const stuck = records[1].envelope.eventId;
    const eventBridge = recordingSink('eventbridge', () => false);
    const kafka = recordingSink('kafka', (id) => id === stuck);
    const report = await publishToSinks(records, { sinks: [eventBridge, kafka], sleep: noSleep });
    expect(report).toEqual({ published: 2, failed: [{ sequenceNumber: '101', eventId: stuck, reason: 'kafka: refused' }] });
    expect(eventBridge.taken).toHaveLength(3);
  });

  test('only refused events are sent again, up to maxAttempts', async () => {
    const flaky = records[0].envelope.eventId;
    const sink = recordingSink('eventbridge', (id, attempt) => id === flaky && attempt < 3);
    const report = await publishToSinks(records, { sinks: [sink], maxAttempts: 3, sleep: noSleep });
    expect(report.failed).toEqual([]);
    expect(sink.attempts).toBe(3);
    expect(sink.taken.filter((id) => id === flaky)).toHaveLength(1);
    expect(sink.taken).toHaveLength(3);
  });
});
