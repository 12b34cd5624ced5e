import { randomUUID } from 'node:crypto';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { createPaymentsTable } from './payments-table';
import { outboxItem } from '../../functions/payment-outbox/payment-items';
import { replayOutbox } from '../../functions/payment-outbox/replay-outbox-logic';
import { createEvent } from '../../functions/shared/envelope';
import { EventBridgeSink } from '../../functions/shared/eventbridge-sink';
import { PAYMENT_EVENT_SOURCE } from '../../lib/payment-outbox/contract';
import { bundleHandler, loadHandler } from '../harness/bundle-handler';
import { configureHandlerEnv, fakeContext, localClients, REGION, uniqueName } from '../harness/local-aws';
import { LocalEventBridge, startLocalEventBridge } from '../harness/local-eventbridge';

type ReplayFn = (event: unknown, context: unknown) => Promise<any>;

/** Outbox items at chosen times on DynamoDB Local, replayed to a local EventBridge endpoint. */
describe('outbox replay', () => {
  const clients = localClients();
  let bus: LocalEventBridge;
  let replay: ReplayFn;
  let tableName: string;
  beforeAll(async () => {
    bus = await startLocalEventBridge();
    tableName = uniqueName('replay');
    await createPaymentsTable(clients.ddb, tableName);
    configureHandlerEnv({ PAYMENTS_TABLE_NAME: tableName, EVENT_BUS_NAME: 'payments-bus', AWS_ENDPOINT_URL_EVENTBRIDGE: bus.endpoint });
    replay = loadHandler<ReplayFn>(await bundleHandler('functions/payment-outbox/replay-outbox.ts'));
  });
  afterAll(() => bus.stop());
  beforeEach(() => { bus.accepted.length = 0; bus.calls.length = 0; });

  /**
   * Writes an outbox record as the webhook would, at a chosen time; returns its event id.
   * Retention is a year: DynamoDB Local enforces TTL, so with the 7-day default a record
   * dated more than a week before today vanishes at some moment during the test.
   */
  async function outboxAt(occurredAt: string, table = tableName): Promise<string> {
    const paymentId = randomUUID();
    const event = { ...createEvent({ eventType: 'PaymentSucceeded', correlationId: paymentId, source: PAYMENT_EVENT_SOURCE, payload: { paymentId } }), occurredAt };
    await clients.doc.send(new PutCommand({ TableName: table, Item: outboxItem(event, paymentId, 365 * 86_400) }));
    return event.eventId;
  }

  test('replays exactly the window [from, to), across day partitions, in time order, with the original event ids', async () => {
    await outboxAt('2026-11-19T10:00:00.000Z'); // before
    const inside = [
      await outboxAt('2026-11-20T23:59:00.000Z'),
      await outboxAt('2026-11-21T00:00:30.000Z'),
      await outboxAt('2026-11-21T12:00:00.000Z'),
      await outboxAt('2026-11-22T08:00:00.000Z'),
    ];
    await outboxAt('2026-11-22T10:00:00.000Z'); // exactly `to`: excluded
    const result = await replay({ from: '2026-11-20T12:00:00Z', to: '2026-11-22T10:00:00Z' }, fakeContext('replay'));
    expect(result).toEqual({ replayed: 4, failed: [], complete: true });
    expect(bus.details().map((d) => d.eventId)).toEqual(inside);
    expect(bus.accepted.every((e) => e.Source === PAYMENT_EVENT_SOURCE && e.DetailType === 'PaymentSucceeded')).toBe(true);
  });

  test('bad requests fail with a 400-style error naming the field, and nothing is published', async () => {
    const window = { from: '2026-11-20T00:00:00Z', to: '2026-11-21T00:00:00Z' };
    const position = `2026-11-20T10:00:00.000Z#${randomUUID()}`;
    const cases: Array<[unknown, RegExp]> = [
      [{ from: '2026-11-22T00:00:00Z', to: '2026-11-21T00:00:00Z' }, /field 'from': .* must be before 'to'/],
      [{ from: 'last tuesday', to: '2026-11-21T00:00:00Z' }, /field 'from': must be an ISO 8601 date-time/],
      [{ from: '2026-10-01T00:00:00Z', to: '2026-11-21T00:00:00Z' }, /field 'to': the window from 'from' may span at most 31 days, this one spans 51.0/],
      [{ from: '2026-11-20T00:00:00Z' }, /field 'to'/],
      [{ ...window, dryRun: true }, /unknown field/],
      // resumeAfter: only what replay itself returns, for this window
      [{ ...window, resumeAfter: 'garbage' }, /field 'resumeAfter': must be the resumeAfter value an earlier replay/],
      [{ ...window, resumeAfter: '' }, /field 'resumeAfter'/],
      [{ ...window, resumeAfter: 42 }, /field 'resumeAfter'/],
      [{ ...window, resumeAfter: `2026-11-20T10:00:00Z#${randomUUID()}` }, /field 'resumeAfter': must be the resumeAfter value/], // not toISOString's form
      [{ ...window, resumeAfter: position.toUpperCase() }, /field 'resumeAfter'/],
      [{ ...window, resumeAfter: `${position}x` }, /field 'resumeAfter'/],
      [{ ...window, resumeAfter: position.replace('2026-11-20T10', '2026-02-30T10') }, /field 'resumeAfter': 2026-02-30T10:00:00.000Z is not a real time/],
      [{ ...window, resumeAfter: position.replace('2026-11-20', '2026-11-25') }, /field 'resumeAfter': position 2026-11-25T10:00:00.000Z lies outside the window/],
      [{ ...window, resumeAfter: position.replace('2026-11-20', '2026-11-19') }, /field 'resumeAfter': position .* outside the window/],
      ['not an object', /Invalid replay request: expected object/],
    ];
    for (const [request, message] of cases) {
      const error = await replay(request, fakeContext('replay')).then(() => undefined, (e: Error & { statusCode?: number }) => e);
      expect({ request, message: error?.message }).toEqual({ request, message: expect.stringMatching(message) });
      expect(error).toMatchObject({ code: 'VALIDATION_FAILED', statusCode: 400 });
    }
    expect(bus.calls).toHaveLength(0);
  });

  test('a resumeAfter that replay returned is accepted by the handler, which goes on right after it', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await outboxAt(`2026-11-25T0${i}:00:00.000Z`));
    const window = { from: '2026-11-25T00:00:00Z', to: '2026-11-26T00:00:00Z' };
    let budget = 1; // one page of one record, then the time runs short
    const first = await replayOutbox(window, {
      db: clients.doc, tableName, sinks: [], pageSize: 1, safetyMarginMs: 1, remainingTimeMs: () => (budget-- > 0 ? 60_000 : 0),
    });
    expect(first).toMatchObject({ complete: false, resumeAfter: `2026-11-25T00:00:00.000Z#${ids[0]}` });
    const rest = await replay({ ...window, resumeAfter: first.resumeAfter }, fakeContext('replay'));
    expect(rest).toEqual({ replayed: 2, failed: [], complete: true });
    expect(bus.details().map((d) => d.eventId)).toEqual(ids.slice(1));
  });

  describe('long windows (logic with a small page size)', () => {
    const sink = () => new EventBridgeSink(
      new EventBridgeClient({ region: REGION, endpoint: bus.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
      'payments-bus',
    );

    test('pages through a day, and resumes where a run that ran out of time stopped, without gaps or repeats', async () => {
      const table = uniqueName('replay-pages');
      await createPaymentsTable(clients.ddb, table);
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) ids.push(await outboxAt(`2026-11-23T0${i}:00:00.000Z`, table));
      let budget = 3; // pages this "invocation" may do before its time runs short
      const services = {
        db: clients.doc,
        tableName: table,
        sinks: [sink()],
        pageSize: 2,
        safetyMarginMs: 1,
        remainingTimeMs: () => (budget-- > 0 ? 60_000 : 0),
      };
      const window = { from: '2026-11-23T00:00:00Z', to: '2026-11-24T00:00:00Z' };

      const first = await replayOutbox(window, services);
      expect(first).toMatchObject({ replayed: 6, complete: false, resumeAfter: expect.stringContaining(ids[5]) });
      budget = 100;
      const second = await replayOutbox({ ...window, resumeAfter: first.resumeAfter }, services);
      expect(second).toEqual({ replayed: 1, failed: [], complete: true });
      expect(bus.details().map((d) => d.eventId)).toEqual(ids);
    });

    test('an event the bus keeps refusing is reported by id; the rest are replayed', async () => {
      const table = uniqueName('replay-fail');
      await createPaymentsTable(clients.ddb, table);
      const ok = await outboxAt('2026-11-23T01:00:00.000Z', table);
      const refused = await outboxAt('2026-11-23T02:00:00.000Z', table);
      bus.failEntries((e) => JSON.parse(e.Detail!).eventId === refused, 1_000);
      const result = await replayOutbox(
        { from: '2026-11-23T00:00:00Z', to: '2026-11-23T03:00:00Z' },
        { db: clients.doc, tableName: table, sinks: [sink()], remainingTimeMs: () => 60_000 },
      );
      expect(result).toEqual({ replayed: 1, failed: [refused], complete: true });
      expect(bus.details().map((d) => d.eventId)).toEqual([ok]);
    });
  });
});
