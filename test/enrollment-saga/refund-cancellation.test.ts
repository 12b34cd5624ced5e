import { enrollmentTable, paymentRefunded, PRICE, sagaInput } from './enrollment-fixture';
import { allocateTrainer } from '../../functions/enrollment-saga/allocate-trainer-logic';
import { cancelOnRefund } from '../../functions/enrollment-saga/cancel-on-refund-logic';
import { compensate } from '../../functions/enrollment-saga/compensate-logic';
import { completeEnrollment } from '../../functions/enrollment-saga/complete-enrollment-logic';
import { createPurchase } from '../../functions/enrollment-saga/create-purchase-logic';
import { EnrollmentEvents } from '../../functions/enrollment-saga/enrollment-events';
import type { FactPublisher } from '../../functions/enrollment-saga/fact-publisher';
import type { SagaInput } from '../../functions/enrollment-saga/saga-types';
import { scheduleSessions } from '../../functions/enrollment-saga/schedule-sessions-logic';
import type { EventEnvelope } from '../../functions/shared/envelope';

const refunded = (input: Pick<SagaInput, 'paymentId' | 'studentId' | 'courseId'>, refundedAmount: number, metadata = true) =>
  paymentRefunded(input, refundedAmount, { metadata });

/** The bus, as the consumer sees it: what it accepted, and refusals on demand. */
function recordingBus() {
  const published: Array<EventEnvelope<any>> = [];
  let refuse = 0;
  const publisher: FactPublisher = {
    async publish(event) {
      if (refuse > 0) {
        refuse--;
        throw new Error('The bus refused the entry');
      }
      published.push(event);
    },
  };
  return { published, publisher, refuseNext: (n: number) => { refuse = n; } };
}

const rejection = (p: Promise<unknown>) => p.then(() => 'resolved', (e: Error) => e.name);

/** The refund consumer's logic against DynamoDB Local. */
describe('a fully refunded payment cancels its enrollment', () => {
  async function completed(courseId: string, now: () => Date) {
    const t = await enrollmentTable({ window: 4, total: 30, intervalDays: 7, time: '09:00' }, now);
    await t.seedTrainers(courseId, [1]);
    const input = sagaInput({ courseId });
    await createPurchase(t.services, input);
    await allocateTrainer(t.services, input);
    await scheduleSessions(t.services, input);
    await completeEnrollment(t.services, input);
    return { t, input };
  }

  test('after completion: seat freed, future sessions cancelled, purchase cancelled, EnrollmentCancelled once; twice (and 5 at once) = once', async () => {
    let now = new Date('2026-11-25T10:00:00Z');
    const { t, input } = await completed('crs_refund', () => now);
    now = new Date('2026-12-04T12:00:00Z'); // two of the four sessions (11-26, 12-03) are past
    const bus = recordingBus();
    const refund = refunded(input, PRICE.amount);
    const result = await cancelOnRefund(t.services, bus.publisher, refund);
    expect(result.outcome).toBe('cancelled');
    expect((await t.trainers('crs_refund'))[0].allocated).toBe(0);
    expect(await t.get(`ALLOCATION#alc_${input.sagaId}`, 'ALLOCATION')).toMatchObject({ status: 'RELEASED' });
    expect((await t.sessions(input.sagaId)).map((s) => [s.date, s.status])).toEqual([
      ['2026-11-26', 'SCHEDULED'], ['2026-12-03', 'SCHEDULED'], ['2026-12-10', 'CANCELLED'], ['2026-12-17', 'CANCELLED'],
    ]);
    expect(await t.get(`PURCHASE#pur_${input.sagaId}`, 'PURCHASE')).toMatchObject({ status: 'CANCELLED', cancelReason: 'PAYMENT_REFUNDED' });
    expect(await t.get(`STUDENT#${input.studentId}#COURSE#crs_refund`, 'ACTIVE_PURCHASE')).toBeUndefined();
    expect(await t.get(`STUDENT#${input.studentId}#COURSE#crs_refund`, 'ACTIVE_ALLOCATION')).toBeUndefined();
    expect(bus.published).toHaveLength(1);
    expect(bus.published[0]).toMatchObject({
      eventType: EnrollmentEvents.ENROLLMENT_CANCELLED,
      correlationId: input.sagaId,
      payload: { reason: 'PAYMENT_REFUNDED', studentId: input.studentId, courseId: 'crs_refund', paymentId: input.paymentId, refundEventId: refund.eventId },
    });

    // the same refund again, a replayed copy, and five concurrent deliveries: nothing more
    const again = await Promise.all([refund, refund, refund, refund, refund, { ...refund }].map((r) => cancelOnRefund(t.services, bus.publisher, r)));
    expect(again.map((r) => r.outcome)).toEqual(Array(6).fill('cancelled'));
    expect(bus.published).toHaveLength(1);
    expect((await t.trainers('crs_refund'))[0].allocated).toBe(0);
    // the seat is free for a new payment
    const next = sagaInput({ courseId: 'crs_refund' });
    await createPurchase(t.services, next);
    await expect(allocateTrainer(t.services, next)).resolves.toMatchObject({ trainerId: 'trn_0' });
  });

  test('the bus refuses the fact once: the retried record announces it once and undoes nothing twice', async () => {
    const { t, input } = await completed('crs_refund_bus', () => new Date());
    const bus = recordingBus();
    bus.refuseNext(1);
    const refund = refunded(input, PRICE.amount);
    await expect(cancelOnRefund(t.services, bus.publisher, refund)).rejects.toThrow(/refused/);
    expect(await t.get(`PURCHASE#pur_${input.sagaId}`, 'PURCHASE')).toMatchObject({ status: 'CANCELLED' });
    await expect(cancelOnRefund(t.services, bus.publisher, refund)).resolves.toMatchObject({ outcome: 'cancelled' });
    expect(bus.published.map((e) => e.eventType)).toEqual([EnrollmentEvents.ENROLLMENT_CANCELLED]);
    expect((await t.trainers('crs_refund_bus'))[0].allocated).toBe(0);
  });

  test('a partial refund leaves the enrollment alone', async () => {
    const { t, input } = await completed('crs_partial', () => new Date());
    const bus = recordingBus();
    expect(await cancelOnRefund(t.services, bus.publisher, refunded(input, PRICE.amount - 1))).toEqual({ outcome: 'partial-refund' });
    expect(await t.get(`PURCHASE#pur_${input.sagaId}`, 'PURCHASE')).toMatchObject({ status: 'ACTIVE' });
    expect((await t.trainers('crs_partial'))[0].allocated).toBe(1);
    expect(await t.get(`SAGA#${input.sagaId}`, 'REFUND')).toBeUndefined();
    expect(bus.published).toHaveLength(0);
  });

  test('the refund of an unknown payment (no enrollment, no student and course) changes nothing', async () => {
    const t = await enrollmentTable();
    const bus = recordingBus();
    const stranger = sagaInput();
    expect(await cancelOnRefund(t.services, bus.publisher, refunded(stranger, PRICE.amount, false))).toEqual({ outcome: 'unknown-payment' });
    expect(await t.get(`SAGA#${stranger.sagaId}`, 'REFUND')).toBeUndefined();
    expect(bus.published).toHaveLength(0);
  });

  test('refunded before the saga created the purchase: the saga is refused at its first step and compensated (EnrollmentFailed PAYMENT_REFUNDED)', async () => {
    const t = await enrollmentTable();
    await t.seedTrainers('crs_early', [1]);
    const input = sagaInput({ courseId: 'crs_early' });
    const bus = recordingBus();
    expect(await cancelOnRefund(t.services, bus.publisher, refunded(input, PRICE.amount))).toEqual({ outcome: 'refunded-before-saga' });
    expect(await rejection(createPurchase(t.services, input))).toBe('PaymentRefunded');
    const undo = await compensate(t.services, { ...input, error: { Error: 'PaymentRefunded' } });
    expect(undo).toMatchObject({ alreadyCompleted: false, reason: 'PAYMENT_REFUNDED' });
    expect(undo.event).toMatchObject({ eventType: EnrollmentEvents.ENROLLMENT_FAILED, payload: { reason: 'PAYMENT_REFUNDED' } });
    expect(await t.get(`PURCHASE#pur_${input.sagaId}`, 'PURCHASE')).toBeUndefined();
    expect(await t.get(`STUDENT#${input.studentId}#COURSE#crs_early`, 'ACTIVE_PURCHASE')).toBeUndefined();
    expect(bus.published).toHaveLength(0); // the saga announces its failure, not the refund consumer
  });

  test('refunded while the saga runs: completion is refused, compensation frees the seat; a second refund delivery changes nothing', async () => {
    const t = await enrollmentTable();
    await t.seedTrainers('crs_midway', [1]);
    const input = sagaInput({ courseId: 'crs_midway' });
    await createPurchase(t.services, input);
    await allocateTrainer(t.services, input);
    await scheduleSessions(t.services, input);
    const bus = recordingBus();
    const refund = refunded(input, PRICE.amount);
    expect(await cancelOnRefund(t.services, bus.publisher, refund)).toEqual({ outcome: 'refunded-during-saga' });
    expect(await rejection(completeEnrollment(t.services, input))).toBe('PaymentRefunded');
    const undo = await compensate(t.services, { ...input, error: { Error: 'PaymentRefunded' } });
    expect(undo).toMatchObject({ reason: 'PAYMENT_REFUNDED', releasedSeat: true, cancelledPurchase: true });
    expect((await t.trainers('crs_midway'))[0].allocated).toBe(0);
    expect((await t.sessions(input.sagaId)).every((s) => s.status === 'CANCELLED')).toBe(true);
    expect(await cancelOnRefund(t.services, bus.publisher, refund)).toEqual({ outcome: 'enrollment-already-failed' });
    expect(bus.published).toHaveLength(0);
  });

  test('refund and completion racing, 20 times: always exactly one outcome (completed then cancelled, or never completed)', async () => {
    const t = await enrollmentTable();
    for (let i = 0; i < 20; i++) {
      const courseId = `crs_race_${i}`;
      await t.seedTrainers(courseId, [1]);
      const input = sagaInput({ courseId });
      await createPurchase(t.services, input);
      await allocateTrainer(t.services, input);
      await scheduleSessions(t.services, input);
      const bus = recordingBus();
      const [completion, refund] = await Promise.all([
        rejection(completeEnrollment(t.services, input)),
        cancelOnRefund(t.services, bus.publisher, refunded(input, PRICE.amount)),
      ]);
      if (completion === 'PaymentRefunded') await compensate(t.services, { ...input, error: { Error: 'PaymentRefunded' } });
      const purchase = await t.get(`PURCHASE#pur_${input.sagaId}`, 'PURCHASE');
      expect(purchase?.status).toBe('CANCELLED');
      expect((await t.trainers(courseId))[0].allocated).toBe(0);
      if (completion === 'resolved') {
        // completed first: the refund consumer saw it (or will, on the record's retry) and cancelled it
        expect(refund.outcome).toBe('cancelled');
        expect(bus.published).toHaveLength(1);
      } else {
        expect(completion).toBe('PaymentRefunded');
        expect(refund.outcome).toBe('refunded-during-saga');
        expect(bus.published).toHaveLength(0);
      }
    }
  }, 60_000);
});
