import { randomUUID } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { createPaymentsTable } from './payments-table';
import type { ProviderEvent } from '../../functions/payment-outbox/payment-state';
import { recordProviderEvent, RecordServices } from '../../functions/payment-outbox/record-provider-event';
import { PAYMENT_EVENT_SOURCE, PaymentEvents } from '../../lib/payment-outbox/contract';
import { localClients, uniqueName } from '../harness/local-aws';

/** The webhook's write against DynamoDB Local: one transaction, conditional, exactly once. */
describe('recordProviderEvent (DynamoDB Local)', () => {
  const clients = localClients();
  const tableName = uniqueName('payments');
  const services: RecordServices = { db: clients.doc, tableName, outboxRetentionSeconds: 7 * 24 * 3600, now: () => new Date() };

  beforeAll(() => createPaymentsTable(clients.ddb, tableName));

  const itemsOf = async (paymentId: string) =>
    (await clients.doc.send(new QueryCommand({ TableName: tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': `PAYMENT#${paymentId}` } }))).Items ?? [];
  const outboxOf = async (paymentId: string) => (await itemsOf(paymentId)).filter((i) => i.recordType === 'OUTBOX');
  const stateOf = async (paymentId: string) => (await itemsOf(paymentId)).find((i) => i.SK === 'STATE');

  type OutcomeEvent = Extract<ProviderEvent, { amount: number }>;
  const outcome = (kind: OutcomeEvent['kind'], paymentId: string, minute: number): OutcomeEvent => ({
    kind, eventId: `evt_${randomUUID()}`, occurredAt: `2026-11-24T12:${String(minute).padStart(2, '0')}:00.000Z`, paymentId, amount: 4_200, currency: 'EUR',
  });

  test('a succeeded payment writes state, ledger and one outbox record with the envelope, together', async () => {
    const paymentId = randomUUID();
    const { response: result, duplicate } = await recordProviderEvent(services, { ...outcome('succeeded', paymentId, 1), metadata: { studentId: 's-1', courseId: 'c-9' } });
    expect(duplicate).toBe(false);
    expect(result).toMatchObject({ outcome: 'applied', status: 'succeeded' });
    expect(await stateOf(paymentId)).toMatchObject({ status: 'succeeded', amount: 4_200, refundedAmount: 0 });
    const [outbox] = await outboxOf(paymentId);
    expect(outbox.envelope).toMatchObject({
      eventId: result.outcome === 'applied' ? result.outboxEventId : 'x',
      eventType: PaymentEvents.SUCCEEDED,
      correlationId: paymentId,
      source: PAYMENT_EVENT_SOURCE,
      version: 1,
      payload: { paymentId, status: 'succeeded', amount: 4_200, metadata: { studentId: 's-1', courseId: 'c-9' } },
    });
    expect(outbox.expiresAt - Math.floor(Date.parse(outbox.envelope.occurredAt) / 1000)).toBe(7 * 24 * 3600);
  });

  test('the same webhook delivered 50 times concurrently: one state change, one outbox record, one answer', async () => {
    const paymentId = randomUUID();
    await recordProviderEvent(services, outcome('pending', paymentId, 1));
    const succeeded = outcome('succeeded', paymentId, 2);
    const results = await Promise.all(Array.from({ length: 50 }, () => recordProviderEvent(services, succeeded)));
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    const [outbox] = await outboxOf(paymentId);
    // every delivery gets the first delivery's answer, naming the one outbox event
    for (const r of results) expect(r.response).toEqual({ outcome: 'applied', status: 'succeeded', outboxEventId: outbox.eventId });
    expect(await outboxOf(paymentId)).toHaveLength(1);
    expect(await stateOf(paymentId)).toMatchObject({ status: 'succeeded', lastProviderEventId: succeeded.eventId });
  }, 30_000);

  test('succeeded, then the older pending: state stays succeeded, the pending is recorded as ignored', async () => {
    const paymentId = randomUUID();
    const pending = outcome('pending', paymentId, 1);
    await recordProviderEvent(services, outcome('succeeded', paymentId, 2));
    expect((await recordProviderEvent(services, pending)).response).toEqual({ outcome: 'ignored', reason: 'out-of-order' });
    expect((await stateOf(paymentId))?.status).toBe('succeeded');
    expect(await outboxOf(paymentId)).toHaveLength(1);
    const ledger = (await itemsOf(paymentId)).find((i) => i.SK === `PROVIDER_EVENT#${pending.eventId}`);
    expect(ledger).toMatchObject({ response: { outcome: 'ignored', reason: 'out-of-order' } });
  });

  test('a redelivered webhook changes nothing and emits nothing, even after later events', async () => {
    const paymentId = randomUUID();
    const pending = outcome('pending', paymentId, 1);
    const first = await recordProviderEvent(services, pending);
    await recordProviderEvent(services, outcome('succeeded', paymentId, 2));
    const before = await itemsOf(paymentId);
    expect(await recordProviderEvent(services, pending)).toEqual({ response: first.response, duplicate: true });
    expect(await itemsOf(paymentId)).toEqual(before);
  });

  test('pending is recorded without an outbox record (nothing to announce yet)', async () => {
    const paymentId = randomUUID();
    const result = await recordProviderEvent(services, outcome('pending', paymentId, 1));
    expect(result.response).toEqual({ outcome: 'applied', status: 'pending' });
    expect(await outboxOf(paymentId)).toHaveLength(0);
  });

  test('metadata given with pending is announced with the outcome that omits it', async () => {
    const paymentId = randomUUID();
    await recordProviderEvent(services, { ...outcome('pending', paymentId, 1), metadata: { studentId: 's-7', courseId: 'c-3' } });
    await recordProviderEvent(services, outcome('succeeded', paymentId, 2));
    const [outbox] = await outboxOf(paymentId);
    expect(outbox.envelope.payload.metadata).toEqual({ studentId: 's-7', courseId: 'c-3' });
  });
});
