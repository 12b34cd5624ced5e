import { randomUUID } from 'node:crypto';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { createPaymentsTable } from './payments-table';
import type { ProviderEvent } from '../../functions/payment-outbox/payment-state';
import { recordProviderEvent } from '../../functions/payment-outbox/record-provider-event';
import { PAYMENT_EVENT_SOURCE, PaymentEvents, OUTBOX_STREAM_FILTER } from '../../lib/payment-outbox/contract';
import { bundleHandler, loadHandler } from '../harness/bundle-handler';
import { matchesFilter, readStream } from '../harness/dynamodb-stream';
import { configureHandlerEnv, fakeContext, localClients, uniqueName } from '../harness/local-aws';
import { LocalEventBridge, startLocalEventBridge } from '../harness/local-eventbridge';

type StreamFn = (event: DynamoDBStreamEvent, context: unknown) => Promise<DynamoDBBatchResponse>;
const BUS = 'payments-bus';

/**
 * Outbox records written by the webhook's transaction on DynamoDB Local, read back from
 * the table's stream, filtered as the event source mapping filters them, and fed to the
 * bundled publisher, whose PutEvents calls reach a local EventBridge endpoint.
 */
describe('outbox publisher', () => {
  const clients = localClients();
  let bus: LocalEventBridge;
  let publish: StreamFn;
  beforeAll(async () => {
    bus = await startLocalEventBridge();
    configureHandlerEnv({ EVENT_BUS_NAME: BUS, AWS_ENDPOINT_URL_EVENTBRIDGE: bus.endpoint });
    publish = loadHandler<StreamFn>(await bundleHandler('functions/payment-outbox/publish-outbox.ts'));
  });
  afterAll(() => bus.stop());
  beforeEach(() => { bus.accepted.length = 0; bus.calls.length = 0; });

  /** A fresh table per test, so its stream holds only that test's records. */
  async function paymentsTable() {
    const tableName = uniqueName('outbox');
    const streamArn = await createPaymentsTable(clients.ddb, tableName);
    const record = (event: ProviderEvent) =>
      recordProviderEvent({ db: clients.doc, tableName, outboxRetentionSeconds: 7 * 86_400, now: () => new Date() }, event);
    return { tableName, streamArn, record };
  }
  const outcome = (kind: 'pending' | 'succeeded' | 'failed', paymentId: string, at: string): ProviderEvent =>
    ({ kind, eventId: `evt_${randomUUID()}`, occurredAt: at, paymentId, amount: 5_000, currency: 'EUR' });
  const refund = (paymentId: string, at: string, refundAmount: number): ProviderEvent =>
    ({ kind: 'refunded', eventId: `evt_${randomUUID()}`, occurredAt: at, paymentId, refundAmount });
  const filtered = (records: DynamoDBRecord[]) => records.filter((r) => matchesFilter(r, OUTBOX_STREAM_FILTER));
  const invoke = (records: DynamoDBRecord[]) => publish({ Records: records }, fakeContext('outbox-publisher'));

  test('one PutEvents entry per outbox record, the envelope as detail; state, ledger and pending produce nothing', async () => {
    const t = await paymentsTable();
    const [p1, p2, p3] = [randomUUID(), randomUUID(), randomUUID()];
    const answers = [
      await t.record(outcome('pending', p1, '2026-11-24T10:00:00.000Z')),
      await t.record(outcome('succeeded', p1, '2026-11-24T10:01:00.000Z')),
      await t.record(outcome('succeeded', p2, '2026-11-24T10:02:00.000Z')),
      await t.record(refund(p2, '2026-11-24T10:03:00.000Z', 1_000)),
      await t.record(outcome('failed', p3, '2026-11-24T10:04:00.000Z')),
    ];
    const stream = await readStream(t.streamArn);
    expect(stream.length).toBeGreaterThan(4); // state and ledger writes are on the stream too
    const outboxRecords = filtered(stream);
    expect(outboxRecords).toHaveLength(4);

    expect(await invoke(outboxRecords)).toEqual({ batchItemFailures: [] });
    expect(bus.accepted.map((e) => [e.EventBusName, e.Source, e.DetailType])).toEqual([
      [BUS, PAYMENT_EVENT_SOURCE, PaymentEvents.SUCCEEDED],
      [BUS, PAYMENT_EVENT_SOURCE, PaymentEvents.SUCCEEDED],
      [BUS, PAYMENT_EVENT_SOURCE, PaymentEvents.REFUNDED],
      [BUS, PAYMENT_EVENT_SOURCE, PaymentEvents.FAILED],
    ]);
    const outboxIds = answers.map((a) => a.response.outcome === 'applied' && a.response.outboxEventId).filter(Boolean);
    expect(bus.details().map((d) => d.eventId)).toEqual(outboxIds);
    expect(bus.details()[2]).toEqual({
      eventId: outboxIds[2],
      eventType: PaymentEvents.REFUNDED,
      correlationId: p2,
      occurredAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      source: PAYMENT_EVENT_SOURCE,
      version: 1,
      payload: { paymentId: p2, status: 'partially_refunded', amount: 5_000, currency: 'EUR', refundedAmount: 1_000, refundAmount: 1_000, providerEventId: expect.any(String) },
    });
  });

  test('records the filter would drop (state, ledger, TTL removals) are not published even if delivered', async () => {
    const t = await paymentsTable();
    const paymentId = randomUUID();
    await t.record(outcome('succeeded', paymentId, '2026-11-24T10:00:00.000Z'));
    const [outbox] = filtered(await readStream(t.streamArn));
    // what TTL does when the retention is over: a REMOVE of the outbox item
    await clients.doc.send(new DeleteCommand({ TableName: t.tableName, Key: { PK: outbox.dynamodb!.Keys!.PK.S, SK: outbox.dynamodb!.Keys!.SK.S } }));
    const all = await readStream(t.streamArn);
    expect(all.some((r) => r.eventName === 'REMOVE')).toBe(true);
    expect(await invoke(all)).toEqual({ batchItemFailures: [] });
    expect(bus.accepted).toHaveLength(1);
  });

  test('23 records go out in PutEvents calls of at most 10 entries', async () => {
    const t = await paymentsTable();
    for (let i = 0; i < 23; i++) await t.record(outcome('succeeded', randomUUID(), '2026-11-24T10:00:00.000Z'));
    expect(await invoke(filtered(await readStream(t.streamArn)))).toEqual({ batchItemFailures: [] });
    expect(bus.calls.map((c) => c.input.Entries.length)).toEqual([10, 10, 3]);
    expect(new Set(bus.details().map((d) => d.eventId)).size).toBe(23);
  });

  test('a refused entry is retried inside the invocation and published once', async () => {
    const t = await paymentsTable();
    for (let i = 0; i < 3; i++) await t.record(outcome('succeeded', randomUUID(), '2026-11-24T10:00:00.000Z'));
    const records = filtered(await readStream(t.streamArn));
    const flaky = records[1].dynamodb!.NewImage!.eventId.S;
    bus.failEntries((e) => JSON.parse(e.Detail!).eventId === flaky, 2, 'ThrottlingException');
    expect(await invoke(records)).toEqual({ batchItemFailures: [] });
    expect(bus.details().filter((d) => d.eventId === flaky)).toHaveLength(1);
    expect(bus.accepted).toHaveLength(3);
  });

  test('an entry refused on every attempt is reported (earliest sequence number) and never counted as published', async () => {
    const t = await paymentsTable();
    for (let i = 0; i < 4; i++) await t.record(outcome('succeeded', randomUUID(), '2026-11-24T10:00:00.000Z'));
    const records = filtered(await readStream(t.streamArn));
    const stuck = records[2].dynamodb!.NewImage!.eventId.S;
    bus.failEntries((e) => JSON.parse(e.Detail!).eventId === stuck, 1_000);
    expect(await invoke(records)).toEqual({ batchItemFailures: [{ itemIdentifier: records[2].dynamodb!.SequenceNumber }] });
    expect(bus.details().map((d) => d.eventId)).not.toContain(stuck);
    expect(bus.calls.filter((c) => c.input.Entries.some((e: any) => JSON.parse(e.Detail).eventId === stuck))).toHaveLength(3);
  });

  test('a failed PutEvents request fails the batch from its first record: nothing lost', async () => {
    const t = await paymentsTable();
    for (let i = 0; i < 2; i++) await t.record(outcome('succeeded', randomUUID(), '2026-11-24T10:00:00.000Z'));
    const records = filtered(await readStream(t.streamArn));
    bus.failRequests(1_000);
    try {
      expect(await invoke(records)).toEqual({ batchItemFailures: [{ itemIdentifier: records[0].dynamodb!.SequenceNumber }] });
      expect(bus.accepted).toHaveLength(0);
    } finally {
      bus.failRequests(0);
    }
    // Lambda's retry from that sequence number publishes both
    expect(await invoke(records)).toEqual({ batchItemFailures: [] });
    expect(bus.accepted).toHaveLength(2);
  });

  test('a malformed outbox record stops the batch there: earlier records published, it is reported, nothing after it jumps ahead', async () => {
    const t = await paymentsTable();
    await t.record(outcome('succeeded', randomUUID(), '2026-11-24T10:00:00.000Z'));
    await clients.doc.send(new PutCommand({
      TableName: t.tableName,
      Item: { PK: 'PAYMENT#broken', SK: 'OUTBOX#x', recordType: 'OUTBOX', envelope: { eventId: 'not-a-uuid', eventType: '' } },
    }));
    await t.record(outcome('succeeded', randomUUID(), '2026-11-24T10:00:00.000Z'));
    const records = filtered(await readStream(t.streamArn));
    expect(records).toHaveLength(3);
    expect(await invoke(records)).toEqual({ batchItemFailures: [{ itemIdentifier: records[1].dynamodb!.SequenceNumber }] });
    expect(bus.accepted).toHaveLength(1);
    expect(bus.details()[0].eventId).toBe(records[0].dynamodb!.NewImage!.eventId.S);
  });
});
