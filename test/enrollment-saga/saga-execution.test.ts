import { sagaInput } from './enrollment-fixture';
import { localSaga } from './saga-execution';
import { EnrollmentEvents } from '../../functions/enrollment-saga/enrollment-events';

/**
 * The synthesized state machine, run by aws-local-stepfunctions, its tasks calling the
 * bundled handlers against DynamoDB Local and its PutEvents tasks captured.
 */
const PLAN = { window: 4, total: 30, intervalDays: 7, time: '09:00' };
const factsOf = (emitted: any[], sagaId: string) => emitted.filter((e) => e.Detail.correlationId === sagaId);

describe('enrollment saga executions', () => {
  let saga: Awaited<ReturnType<typeof localSaga>>;
  beforeAll(async () => { saga = await localSaga(PLAN); });
  beforeEach(() => { saga.emitted.length = 0; });

  test('happy path: 1 purchase, 1 allocation, 4 sessions, and the five facts in order', async () => {
    await saga.table.seedTrainers('crs_happy', [3]);
    const input = sagaInput({ courseId: 'crs_happy' });
    const result = await saga.run(input);
    expect(result.status).toBe('SUCCEEDED');
    expect(await saga.table.get(`PURCHASE#pur_${input.sagaId}`, 'PURCHASE')).toMatchObject({ status: 'ACTIVE' });
    expect(await saga.table.get(`ALLOCATION#alc_${input.sagaId}`, 'ALLOCATION')).toMatchObject({ status: 'ACTIVE', trainerId: 'trn_0' });
    expect(await saga.table.sessions(input.sagaId)).toHaveLength(4);
    const facts = factsOf(saga.emitted, input.sagaId);
    expect(facts.map((e) => e.DetailType)).toEqual([
      EnrollmentEvents.PURCHASE_CREATED, EnrollmentEvents.TRAINER_ALLOCATED, EnrollmentEvents.SESSIONS_SCHEDULED,
      EnrollmentEvents.STUDENT_CACHE_INVALIDATED, EnrollmentEvents.ENROLLMENT_COMPLETED,
    ]);
    expect(facts.every((e) => e.Source === 'cdk-event-services.enrollment-saga' && e.Detail.eventType === e.DetailType)).toBe(true);
  });

  test('no trainer free: compensation leaves no active purchase and no seat taken; EnrollmentFailed once', async () => {
    await saga.table.seedTrainers('crs_full', [0]);
    const input = sagaInput({ courseId: 'crs_full' });
    const result = await saga.run(input);
    expect(result).toMatchObject({ status: 'FAILED', error: 'EnrollmentFailed' });
    expect(await saga.table.get(`PURCHASE#pur_${input.sagaId}`, 'PURCHASE')).toMatchObject({ status: 'CANCELLED' });
    expect(await saga.table.get(`STUDENT#${input.studentId}#COURSE#crs_full`, 'ACTIVE_PURCHASE')).toBeUndefined();
    expect((await saga.table.trainers('crs_full'))[0].allocated).toBe(0);
    const failed = factsOf(saga.emitted, input.sagaId).filter((e) => e.DetailType === EnrollmentEvents.ENROLLMENT_FAILED);
    expect(failed).toHaveLength(1);
    expect(failed[0].Detail.payload).toMatchObject({ reason: 'NO_TRAINER_AVAILABLE' });
  });

  test('crash injection: a step that fails after its write is retried and duplicates nothing', async () => {
    await saga.table.seedTrainers('crs_crash', [5]);
    const input = sagaInput({ courseId: 'crs_crash' });
    let crashes = 0;
    const crashAfterWrite = (real: (i: any) => Promise<any>) => async (i: any) => {
      const result = await real(i); // the write is done...
      if (crashes++ === 0) throw Object.assign(new Error('injected crash after the write'), { name: 'Lambda.ServiceException' });
      return result; // ...and the retry answers from the idempotency record
    };
    const result = await saga.run(input, { 'allocate-trainer': crashAfterWrite, 'schedule-sessions': crashAfterWrite });
    expect(result.status).toBe('SUCCEEDED');
    expect(crashes).toBeGreaterThan(1);
    expect((await saga.table.trainers('crs_crash'))[0].allocated).toBe(1);
    expect(await saga.table.sessions(input.sagaId)).toHaveLength(4);
    expect(factsOf(saga.emitted, input.sagaId)).toHaveLength(5);
  });

  test('the bus refusing the completion facts for good: enrollment kept, nothing undone, no EnrollmentFailed; a re-run announces it', async () => {
    await saga.table.seedTrainers('crs_busdown', [2]);
    const input = sagaInput({ courseId: 'crs_busdown' });
    let refused = 0;
    const busDownAtCompletion = (real: (i: any) => Promise<any>) => async (i: any) => {
      if (i.Entries.some((e: any) => e.DetailType === EnrollmentEvents.ENROLLMENT_COMPLETED)) {
        refused++;
        throw Object.assign(new Error('entries refused'), { name: 'EventBridge.FailedEntry' });
      }
      return real(i);
    };
    const result = await saga.run(input, { 'put-events': busDownAtCompletion });
    expect(result).toMatchObject({ status: 'FAILED', error: 'FailedAfterCompletion' });
    expect(refused).toBe(11); // the first attempt and 10 retries
    expect(await saga.table.get(`PURCHASE#pur_${input.sagaId}`, 'PURCHASE')).toMatchObject({ status: 'ACTIVE' });
    expect(await saga.table.get(`ALLOCATION#alc_${input.sagaId}`, 'ALLOCATION')).toMatchObject({ status: 'ACTIVE' });
    expect((await saga.table.trainers('crs_busdown'))[0].allocated).toBe(1);
    expect(factsOf(saga.emitted, input.sagaId).map((e) => e.DetailType)).not.toContain(EnrollmentEvents.ENROLLMENT_FAILED);

    // recovery: the same input run again once the bus is back completes and announces the very same facts
    const before = factsOf(saga.emitted, input.sagaId);
    expect(await saga.run(input)).toMatchObject({ status: 'SUCCEEDED' });
    const after = factsOf(saga.emitted, input.sagaId).slice(before.length);
    expect(after.map((e) => e.DetailType)).toContain(EnrollmentEvents.ENROLLMENT_COMPLETED);
    expect(after.slice(0, 3).map((e) => e.Detail)).toEqual(before.slice(0, 3).map((e) => e.Detail));
    expect((await saga.table.trainers('crs_busdown'))[0].allocated).toBe(1);
  });

  test('the bus refuses the first completion fact once: each fact arrives once, StudentCacheInvalidated before EnrollmentCompleted', async () => {
    await saga.table.seedTrainers('crs_refuse_first', [1]);
    const input = sagaInput({ courseId: 'crs_refuse_first' });
    let refusals = 0;
    // As Step Functions' PutEvents integration behaves: the accepted entries are on the bus, and
    // one refused entry (FailedEntryCount > 0) fails the task with EventBridge.FailedEntry.
    const refuseCacheFactOnce = (real: (i: any) => Promise<any>) => async (i: any) => {
      const first = i.Entries[0];
      if (first.DetailType === EnrollmentEvents.STUDENT_CACHE_INVALIDATED && refusals++ === 0) {
        const accepted = i.Entries.slice(1);
        if (accepted.length > 0) await real({ Entries: accepted });
        throw Object.assign(new Error('1 entry refused'), { name: 'EventBridge.FailedEntry' });
      }
      return real(i);
    };
    expect(await saga.run(input, { 'put-events': refuseCacheFactOnce })).toMatchObject({ status: 'SUCCEEDED' });
    expect(refusals).toBeGreaterThan(0);
    const completion = factsOf(saga.emitted, input.sagaId)
      .map((e) => e.DetailType)
      .filter((t) => t === EnrollmentEvents.STUDENT_CACHE_INVALIDATED || t === EnrollmentEvents.ENROLLMENT_COMPLETED);
    expect(completion).toEqual([EnrollmentEvents.STUDENT_CACHE_INVALIDATED, EnrollmentEvents.ENROLLMENT_COMPLETED]);
  });

  test('a payment that does not match the course price, or an unknown course: compensated, EnrollmentFailed with the reason', async () => {
    await saga.table.seedTrainers('crs_priced', [2]);
    const cheap = sagaInput({ courseId: 'crs_priced', amount: 100 });
    const dollars = sagaInput({ courseId: 'crs_priced', currency: 'USD' });
    const unknown = sagaInput({ courseId: 'crs_not_seeded' });
    for (const [input, reason] of [[cheap, 'PAYMENT_MISMATCH'], [dollars, 'PAYMENT_MISMATCH'], [unknown, 'COURSE_UNKNOWN']] as const) {
      expect(await saga.run(input)).toMatchObject({ status: 'FAILED', error: 'EnrollmentFailed' });
      expect(await saga.table.get(`PURCHASE#pur_${input.sagaId}`, 'PURCHASE')).toBeUndefined();
      expect(await saga.table.get(`STUDENT#${input.studentId}#COURSE#${input.courseId}`, 'ACTIVE_PURCHASE')).toBeUndefined();
      const facts = factsOf(saga.emitted, input.sagaId);
      expect(facts.map((e) => e.DetailType)).toEqual([EnrollmentEvents.ENROLLMENT_FAILED]);
      expect(facts[0].Detail.payload).toMatchObject({ reason, paymentId: input.paymentId });
    }
    expect((await saga.table.trainers('crs_priced'))[0].allocated).toBe(0);
  });

  test('compensation retried on task timeouts and SDK errors, then EnrollmentFailed; one that never succeeds ends in CompensationFailed', async () => {
    await saga.table.seedTrainers('crs_flaky', [0]); // no seat: the saga fails into compensation
    const input = sagaInput({ courseId: 'crs_flaky' });
    const failures = ['Sandbox.Timedout', 'States.Timeout', 'Lambda.Unknown', 'TimeoutError', 'TransientError'];
    let calls = 0;
    const flaky = (real: (i: any) => Promise<any>) => async (i: any) => {
      const name = failures[calls++];
      if (name) throw Object.assign(new Error(`injected ${name}`), { name });
      return real(i);
    };
    expect(await saga.run(input, { compensate: flaky })).toMatchObject({ status: 'FAILED', error: 'EnrollmentFailed' });
    expect(calls).toBe(failures.length + 1);
    expect(await saga.table.get(`PURCHASE#pur_${input.sagaId}`, 'PURCHASE')).toMatchObject({ status: 'CANCELLED' });
    expect(factsOf(saga.emitted, input.sagaId).map((e) => e.DetailType)).toContain(EnrollmentEvents.ENROLLMENT_FAILED);

    const stuck = sagaInput({ courseId: 'crs_flaky' });
    const down = () => async () => { throw Object.assign(new Error('table unreachable'), { name: 'TimeoutError' }); };
    expect(await saga.run(stuck, { compensate: down })).toMatchObject({ status: 'FAILED', error: 'CompensationFailed' });
    // the purchase is still held: what the CompensationFailed state (and its alarm) tell an operator
    expect(await saga.table.get(`PURCHASE#pur_${stuck.sagaId}`, 'PURCHASE')).toMatchObject({ status: 'CREATED' });
  });

  test('1000 PaymentSucceeded deliveries for 200 payments (5 each, concurrently): 200 purchases, 200 allocations, 800 sessions', async () => {
    await saga.table.seedTrainers('crs_load', [50, 50, 50, 50]);
    const inputs = Array.from({ length: 200 }, () => sagaInput({ courseId: 'crs_load' }));
    const started = Date.now();
    const deliveries = inputs.flatMap((input) => Array.from({ length: 5 }, () => input));
    const results: Array<{ status: string }> = [];
    for (let i = 0; i < deliveries.length; i += 100) { // 100 executions in flight at a time
      results.push(...await Promise.all(deliveries.slice(i, i + 100).map((input) => saga.run(input))));
    }
    const wallMs = Date.now() - started;
    // eslint-disable-next-line no-console
    console.log(`1000 saga executions (200 payments x 5) on 2 cores: ${(wallMs / 1000).toFixed(1)} s`);
    expect(results.filter((r) => r.status === 'SUCCEEDED')).toHaveLength(1000);
    let purchases = 0;
    let allocations = 0;
    let sessions = 0;
    for (const input of inputs) {
      if ((await saga.table.get(`PURCHASE#pur_${input.sagaId}`, 'PURCHASE'))?.status === 'ACTIVE') purchases++;
      if ((await saga.table.get(`ALLOCATION#alc_${input.sagaId}`, 'ALLOCATION'))?.status === 'ACTIVE') allocations++;
      sessions += (await saga.table.sessions(input.sagaId)).length;
    }
    expect([purchases, allocations, sessions]).toEqual([200, 200, 800]);
    const seats = (await saga.table.trainers('crs_load')).reduce((sum, t) => sum + t.allocated, 0);
    expect(seats).toBe(200);
    // every re-emission of a fact carries the fact's one id: 200 sagas x 5 facts
    expect(new Set(saga.emitted.map((e) => e.Detail.eventId)).size).toBe(1000);
  }, 600_000);
});
