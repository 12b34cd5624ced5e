import { enrollmentTable, sagaInput } from './enrollment-fixture';
import { allocateTrainer } from '../../functions/enrollment-saga/allocate-trainer-logic';
import { compensate } from '../../functions/enrollment-saga/compensate-logic';
import { createPurchase } from '../../functions/enrollment-saga/create-purchase-logic';
import { scheduleSessions } from '../../functions/enrollment-saga/schedule-sessions-logic';
import { topUpSessions } from '../../functions/enrollment-saga/top-up-sessions-logic';

/** The daily top-up against DynamoDB Local, with a clock the test moves. */
describe('session top-up', () => {
  test('adds exactly the missing sessions, stops at the total, and a second run adds nothing', async () => {
    let now = new Date('2026-11-25T10:00:00Z');
    const t = await enrollmentTable({ window: 4, total: 6, intervalDays: 7, time: '09:00' }, () => now);
    await t.seedTrainers('crs_1', [5]);
    const input = sagaInput();
    await createPurchase(t.services, input);
    await allocateTrainer(t.services, input); // starts 2026-11-26
    await scheduleSessions(t.services, input); // 11-26, 12-03, 12-10, 12-17

    expect(await topUpSessions(t.services)).toEqual({ allocations: 1, created: 0 }); // window still full

    now = new Date('2026-12-10T00:00:00Z'); // two sessions are past: two upcoming remain
    expect(await topUpSessions(t.services)).toEqual({ allocations: 1, created: 2 });
    expect((await t.sessions(input.sagaId)).map((s) => s.date)).toEqual(
      ['2026-11-26', '2026-12-03', '2026-12-10', '2026-12-17', '2026-12-24', '2026-12-31'],
    );
    expect(await t.get(`ALLOCATION#alc_${input.sagaId}`, 'ALLOCATION')).toMatchObject({ fullyScheduled: true });
    expect((await t.get(`ALLOCATION#alc_${input.sagaId}`, 'ALLOCATION'))?.TOPUP_PK).toBeUndefined();

    now = new Date('2027-01-20T00:00:00Z'); // total reached: the allocation left the top-up index
    expect(await topUpSessions(t.services)).toEqual({ allocations: 0, created: 0 });
    expect(await t.sessions(input.sagaId)).toHaveLength(6);
  });

  test('two top-ups at once create each session once; released allocations are skipped', async () => {
    let now = new Date('2026-11-25T10:00:00Z');
    const t = await enrollmentTable({ window: 2, total: 30, intervalDays: 1, time: '18:30' }, () => now);
    await t.seedTrainers('crs_1', [5]);
    const [kept, released] = [sagaInput(), sagaInput()];
    for (const i of [kept, released]) {
      await createPurchase(t.services, i);
      await allocateTrainer(t.services, i);
      await scheduleSessions(t.services, i);
    }
    await compensate(t.services, { ...released, error: { Error: 'States.Timeout' } });
    now = new Date('2026-12-01T00:00:00Z'); // every session so far is in the past; so are the slots of 11-28 to 11-30
    const runs = await Promise.all([topUpSessions(t.services), topUpSessions(t.services)]);
    expect(runs.reduce((sum, r) => sum + r.created, 0)).toBe(2);
    const sessions = await t.sessions(kept.sagaId);
    expect(sessions.map((s) => [s.index, s.date, s.time])).toEqual([
      [0, '2026-11-26', '18:30'], [1, '2026-11-27', '18:30'], [5, '2026-12-01', '18:30'], [6, '2026-12-02', '18:30'],
    ]);
    expect(await t.sessions(released.sagaId)).toHaveLength(2);
  });
});
