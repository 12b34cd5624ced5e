import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { enrollmentTable, sagaInput } from './enrollment-fixture';
import { allocateTrainer } from '../../functions/enrollment-saga/allocate-trainer-logic';
import { compensate } from '../../functions/enrollment-saga/compensate-logic';
import { completeEnrollment } from '../../functions/enrollment-saga/complete-enrollment-logic';
import { createPurchase } from '../../functions/enrollment-saga/create-purchase-logic';
import { EnrollmentEvents } from '../../functions/enrollment-saga/enrollment-events';
import type { SagaInput, SagaServices } from '../../functions/enrollment-saga/saga-types';
import { scheduleSessions } from '../../functions/enrollment-saga/schedule-sessions-logic';
import { deterministicUuid } from '../../functions/shared/deterministic-id';
import { envelopeSchema } from '../../functions/shared/envelope';

/** The saga's step logic against DynamoDB Local: every step safe to run twice, or five times at once. */
const envelope = envelopeSchema(z.unknown());
const validEnvelope = (e: unknown) => expect((envelope as any)['~standard'].validate(e).issues).toBeUndefined();

/** Runs a step as Step Functions would: TransientError is retried, anything else ends it. */
async function withRetries<T>(step: () => Promise<T>, attempts = 10): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await step();
    } catch (error) {
      if ((error as Error).name !== 'TransientError' || i >= attempts) throw error;
    }
  }
}
const rejection = (p: Promise<unknown>) => p.then(() => 'resolved', (e: Error) => e.name);

describe('enrollment saga steps (DynamoDB Local)', () => {
  test('deterministic event ids are valid UUIDs, stable per (saga, fact), distinct otherwise', () => {
    const id = deterministicUuid('pay_1:PurchaseCreated');
    expect(id).toBe(deterministicUuid('pay_1:PurchaseCreated'));
    expect(id).not.toBe(deterministicUuid('pay_2:PurchaseCreated'));
    expect((z.uuid() as any)['~standard'].validate(id).issues).toBeUndefined();
  });

  test('happy path: one purchase, one seat, the first 4 of 30 weekly sessions, completion facts', async () => {
    const t = await enrollmentTable(undefined, () => new Date('2026-11-25T10:00:00Z'));
    await t.seedTrainers('crs_1', [2]);
    const input = sagaInput();
    const purchase = await createPurchase(t.services, input);
    const allocation = await allocateTrainer(t.services, input);
    const sessions = await scheduleSessions(t.services, input);
    const completion = await completeEnrollment(t.services, input);

    expect(await t.get(`PURCHASE#pur_${input.sagaId}`, 'PURCHASE')).toMatchObject({ status: 'ACTIVE', studentId: input.studentId });
    expect(await t.get(`STUDENT#${input.studentId}#COURSE#crs_1`, 'ACTIVE_PURCHASE')).toMatchObject({ purchaseId: purchase.purchaseId });
    expect((await t.trainers('crs_1'))[0]).toMatchObject({ allocated: 1, capacity: 2 });
    expect(allocation).toMatchObject({ trainerId: 'trn_0', startDate: '2026-11-26' });
    expect(sessions).toMatchObject({ created: 4, scheduled: 4 });
    expect((await t.sessions(input.sagaId)).map((s) => [s.date, s.time])).toEqual([
      ['2026-11-26', '09:00'], ['2026-12-03', '09:00'], ['2026-12-10', '09:00'], ['2026-12-17', '09:00'],
    ]);
    const facts = [purchase.event, allocation.event, sessions.event, ...completion.events];
    expect(facts.map((e) => e.eventType)).toEqual([
      EnrollmentEvents.PURCHASE_CREATED, EnrollmentEvents.TRAINER_ALLOCATED, EnrollmentEvents.SESSIONS_SCHEDULED,
      EnrollmentEvents.STUDENT_CACHE_INVALIDATED, EnrollmentEvents.ENROLLMENT_COMPLETED,
    ]);
    for (const e of facts) {
      validEnvelope(e);
      expect(e.correlationId).toBe(input.paymentId);
    }
  });

  test('every step run again, and five times at once, writes nothing new and answers the same', async () => {
    const t = await enrollmentTable();
    await t.seedTrainers('crs_1', [10]);
    const input = sagaInput();
    const steps: Array<(s: SagaServices, i: SagaInput) => Promise<unknown>> = [createPurchase, allocateTrainer, scheduleSessions, completeEnrollment];
    for (const step of steps) {
      const first = await withRetries(() => step(t.services, input));
      const again = await Promise.all(Array.from({ length: 5 }, () => withRetries(() => step(t.services, input))));
      // the same facts with the same ids; only "created" counts differ (nothing new the second time)
      for (const a of again) expect({ ...(a as any), created: undefined }).toEqual({ ...(first as any), created: undefined });
    }
    expect((await t.trainers('crs_1'))[0].allocated).toBe(1);
    expect(await t.sessions(input.sagaId)).toHaveLength(4);
  });

  test('crash after the write: the retried step finds its own allocation and takes no second seat', async () => {
    const t = await enrollmentTable();
    await t.seedTrainers('crs_1', [3]);
    const input = sagaInput();
    await createPurchase(t.services, input);
    const written = await allocateTrainer(t.services, input); // the write happened; say the Lambda died before answering
    const retried = await allocateTrainer(t.services, input);
    expect(retried).toEqual(written);
    expect((await t.trainers('crs_1'))[0].allocated).toBe(1);
  });

  test('a second active purchase of one course by one student is AlreadyEnrolled; its compensation leaves the first intact', async () => {
    const t = await enrollmentTable();
    await t.seedCourse('crs_1');
    const first = sagaInput({ studentId: 'stu_twice' });
    const second = sagaInput({ studentId: 'stu_twice' });
    await createPurchase(t.services, first);
    expect(await rejection(createPurchase(t.services, second))).toBe('AlreadyEnrolled');
    const undo = await compensate(t.services, { ...second, error: { Error: 'AlreadyEnrolled' } });
    expect(undo).toMatchObject({ reason: 'ALREADY_ENROLLED', releasedSeat: false, cancelledPurchase: false });
    expect(await t.get('STUDENT#stu_twice#COURSE#crs_1', 'ACTIVE_PURCHASE')).toMatchObject({ purchaseId: `pur_${first.sagaId}` });
  });

  test('30 sagas race for 10 seats: exactly 10 allocations, no trainer over capacity, 20 NoTrainerAvailable', async () => {
    const t = await enrollmentTable();
    await t.seedTrainers('crs_1', [4, 3, 3]);
    const inputs = Array.from({ length: 30 }, () => sagaInput());
    for (const i of inputs) await createPurchase(t.services, i);
    const outcomes = await Promise.all(inputs.map((i) => rejection(withRetries(() => allocateTrainer(t.services, i)))));
    expect(outcomes.filter((o) => o === 'resolved')).toHaveLength(10);
    expect(outcomes.filter((o) => o === 'NoTrainerAvailable')).toHaveLength(20);
    expect((await t.trainers('crs_1')).map((tr) => [tr.allocated, tr.capacity])).toEqual([[4, 4], [3, 3], [3, 3]]);
  }, 30_000);

  test('compensation after allocation: seat freed once, purchase cancelled, guards gone, sessions cancelled, one failure fact', async () => {
    const t = await enrollmentTable();
    await t.seedTrainers('crs_1', [1]);
    const input = sagaInput();
    await createPurchase(t.services, input);
    await allocateTrainer(t.services, input);
    await scheduleSessions(t.services, input);
    const error = { Error: 'States.Timeout', Cause: 'complete-enrollment timed out' };
    const [first, second] = [await compensate(t.services, { ...input, error }), await compensate(t.services, { ...input, error })];
    expect(first).toMatchObject({ reason: 'STEP_FAILED', releasedSeat: true, cancelledPurchase: true });
    expect(second).toMatchObject({ reason: 'STEP_FAILED', releasedSeat: false, cancelledPurchase: false });
    expect(second.event).toEqual(first.event); // the same EnrollmentFailed, same id
    validEnvelope(first.event);
    expect((await t.trainers('crs_1'))[0].allocated).toBe(0);
    expect(await t.get(`PURCHASE#pur_${input.sagaId}`, 'PURCHASE')).toMatchObject({ status: 'CANCELLED' });
    expect(await t.get(`STUDENT#${input.studentId}#COURSE#crs_1`, 'ACTIVE_PURCHASE')).toBeUndefined();
    expect(await t.get(`STUDENT#${input.studentId}#COURSE#crs_1`, 'ACTIVE_ALLOCATION')).toBeUndefined();
    expect((await t.sessions(input.sagaId)).every((s) => s.status === 'CANCELLED')).toBe(true);
    // the seat and the course are free again: the student can enroll with a new payment
    const retry = sagaInput({ studentId: input.studentId });
    await createPurchase(t.services, retry);
    await expect(allocateTrainer(t.services, retry)).resolves.toMatchObject({ trainerId: 'trn_0' });
  });

  test('no trainer for the course: NoTrainerAvailable, then compensation cancels the purchase', async () => {
    const t = await enrollmentTable();
    await t.seedTrainers('crs_nobody', []); // the course, and no trainer
    const input = sagaInput({ courseId: 'crs_nobody' });
    await createPurchase(t.services, input);
    expect(await rejection(allocateTrainer(t.services, input))).toBe('NoTrainerAvailable');
    const undo = await compensate(t.services, { ...input, error: { Error: 'NoTrainerAvailable' } });
    expect(undo).toMatchObject({ reason: 'NO_TRAINER_AVAILABLE', releasedSeat: false, cancelledPurchase: true });
    expect(undo.event?.eventType).toBe(EnrollmentEvents.ENROLLMENT_FAILED);
  });

  test('the only free trainer sits beyond the first 1 MB Query page: found and allocated', async () => {
    const t = await enrollmentTable();
    await t.seedCourse('crs_big');
    const bio = 'x'.repeat(200_000); // 6 full trainers of ~200 KB fill more than one page
    for (let i = 0; i < 6; i++) {
      await t.services.db.send(new PutCommand({
        TableName: t.services.tableName,
        Item: { PK: 'COURSE#crs_big', SK: `TRAINER#trn_a${i}`, trainerId: `trn_a${i}`, courseId: 'crs_big', capacity: 1, allocated: 1, bio },
      }));
    }
    await t.services.db.send(new PutCommand({
      TableName: t.services.tableName,
      Item: { PK: 'COURSE#crs_big', SK: 'TRAINER#trn_z', trainerId: 'trn_z', courseId: 'crs_big', capacity: 1, allocated: 0 },
    }));
    const firstPage = await t.services.db.send(new QueryCommand({
      TableName: t.services.tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': 'COURSE#crs_big' },
    }));
    expect(firstPage.LastEvaluatedKey).toBeDefined(); // the setup really spans two pages
    const input = sagaInput({ courseId: 'crs_big' });
    await createPurchase(t.services, input);
    expect(await allocateTrainer(t.services, input)).toMatchObject({ trainerId: 'trn_z' });
  });

  test('compensation after completion (a later state failed, or a second execution) undoes nothing and records no failure', async () => {
    const t = await enrollmentTable();
    await t.seedTrainers('crs_done', [1]);
    const input = sagaInput({ courseId: 'crs_done' });
    await createPurchase(t.services, input);
    await allocateTrainer(t.services, input);
    await scheduleSessions(t.services, input);
    await completeEnrollment(t.services, input);
    const undo = await compensate(t.services, { ...input, error: { Error: 'States.TaskFailed' } });
    expect(undo).toMatchObject({ alreadyCompleted: true, releasedSeat: false, cancelledPurchase: false });
    expect(undo).not.toHaveProperty('event');
    expect(await t.get(`PURCHASE#pur_${input.sagaId}`, 'PURCHASE')).toMatchObject({ status: 'ACTIVE' });
    expect((await t.trainers('crs_done'))[0].allocated).toBe(1);
    expect(await t.get(`SAGA#${input.sagaId}`, 'FAILURE')).toBeUndefined();
  });
});
