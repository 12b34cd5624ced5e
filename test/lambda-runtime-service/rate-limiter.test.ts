import { runtimeTables, type RuntimeTables } from './runtime-tables';
import { gcraParameters, RateLimiter, type RateDecision } from '../../functions/lambda-runtime-service/rate-limiter';
import type { RateLimit } from '../../lib/lambda-runtime-service/contract';

let seq = 0;
const fresh = () => `limited-${++seq}`;

const admitted = (decisions: RateDecision[]) => decisions.filter((d) => d.allowed).length;

describe('rate limiter: GCRA in one DynamoDB item (DynamoDB Local)', () => {
  let t: RuntimeTables;
  /** Four containers: each its own limiter (its own guesses), one table, one clock. */
  let containers: RateLimiter[];
  const nowMs = () => t.clock.ms;
  beforeAll(async () => {
    t = await runtimeTables();
    containers = Array.from({ length: 4 }, () => new RateLimiter({ db: t.clients.doc, tableName: t.registryTable, nowMs }));
  });
  afterAll(() => t.clients.ddb.destroy());

  /** `count` calls at once, spread over the containers. */
  const burst = (name: string, limit: RateLimit, count: number) =>
    Promise.all(Array.from({ length: count }, (_, i) => containers[i % containers.length].take(name, limit)));

  test('parameters: interval 1/rate, tolerance (burst - 1) intervals, in whole microseconds', () => {
    expect(gcraParameters({ requestsPerSecond: 10, burst: 20 })).toEqual({ intervalUs: 100_000, toleranceUs: 1_900_000 });
    expect(gcraParameters({ requestsPerSecond: 3, burst: 1 })).toEqual({ intervalUs: 333_333, toleranceUs: 0 });
  });

  test('200 concurrent calls admit exactly the burst; each later window admits exactly rate x window; idle time never banks more than the burst', async () => {
    const name = fresh();
    const limit = { requestsPerSecond: 10, burst: 20 };
    const log: Array<{ window: string; admitted: number; writes: number }> = [];
    const round = async (window: string) => {
      const decisions = await burst(name, limit, 200);
      log.push({ window, admitted: admitted(decisions), writes: decisions.reduce((n, d) => n + d.writes, 0) });
      for (const d of decisions) {
        expect(d.writes).toBeGreaterThanOrEqual(1);
        expect(d.writes).toBeLessThanOrEqual(3);
        if (!d.allowed) expect(d.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      }
      return decisions;
    };

    const first = await round('t=0 (idle bucket)');
    expect(admitted(first)).toBe(20); // the burst, not one more
    expect(first.filter((d) => !d.allowed).every((d) => d.retryAfterSeconds === 1)).toBe(true);

    t.advance(1);
    expect(admitted(await round('t=1s'))).toBe(10); // 10/s refill
    t.advance(0.5);
    expect(admitted(await round('t=1.5s'))).toBe(5);
    t.advance(0.05);
    expect(admitted(await round('t=1.55s'))).toBe(0); // half an interval: nothing yet
    t.advance(0.05);
    expect(admitted(await round('t=1.6s'))).toBe(1);
    t.advance(3600);
    expect(admitted(await round('t=1h (long idle)'))).toBe(20); // refilled to the burst, not 36,000
    // eslint-disable-next-line no-console
    console.log(`GCRA 10/s burst 20, 200 concurrent calls per window over 4 limiters:\n${log.map((l) => `  ${l.window}: admitted ${l.admitted}, UpdateItem calls ${l.writes}`).join('\n')}`);
  });

  test('calls whose clocks spread over a second admit at most burst + rate x span, in any arrival order', async () => {
    const name = fresh();
    const limit = { requestsPerSecond: 10, burst: 20 };
    const start = t.clock.ms;
    // 200 concurrent calls, call i seeing now = start + 5 i ms (0 … 995 ms), arriving in any order.
    const decisions = await Promise.all(Array.from({ length: 200 }, (_, i) => {
      const limiter = new RateLimiter({ db: t.clients.doc, tableName: t.registryTable, nowMs: () => start + 5 * i });
      return limiter.take(name, limit);
    }));
    const n = admitted(decisions);
    // The upper bound is exact in any order. A later clock arriving first moves tat forward (an idle
    // reset), so fewer may pass; a limiter that refuses the whole burst still fails here.
    expect(n).toBeGreaterThanOrEqual(10);
    expect(n).toBeLessThanOrEqual(20 + Math.floor(995 / 100)); // 29
  });

  test('Retry-After is the time until the next admission, from the refused write (no read)', async () => {
    const name = fresh();
    const limit = { requestsPerSecond: 0.1, burst: 1 }; // one call per 10 s
    const limiter = containers[0];
    expect(await limiter.take(name, limit)).toEqual({ allowed: true, retryAfterSeconds: 0, writes: 1 });
    expect(await limiter.take(name, limit)).toMatchObject({ allowed: false, retryAfterSeconds: 10, writes: 1 });
    t.advance(9);
    expect(await limiter.take(name, limit)).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    t.advance(0.5);
    expect(await limiter.take(name, limit)).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    t.advance(0.5);
    expect(await limiter.take(name, limit)).toMatchObject({ allowed: true });
    const raw = await t.rawRegistryItem(`FUNCTION#${name}`, 'RATE');
    expect(raw).toEqual({ PK: `FUNCTION#${name}`, SK: 'RATE', tat: t.clock.ms * 1000 + 10_000_000 });
  });

  test('a wrong guess costs one more write, never a wrong answer', async () => {
    const name = fresh();
    const limit = { requestsPerSecond: 1, burst: 3 };
    const a = new RateLimiter({ db: t.clients.doc, tableName: t.registryTable, nowMs });
    const b = new RateLimiter({ db: t.clients.doc, tableName: t.registryTable, nowMs });
    expect(await a.take(name, limit)).toMatchObject({ allowed: true, writes: 1 }); // idle guess, right
    expect(await a.take(name, limit)).toMatchObject({ allowed: true, writes: 1 }); // busy guess, right
    expect(await b.take(name, limit)).toMatchObject({ allowed: true, writes: 2 }); // b guessed idle: the refusal said busy
    expect(await b.take(name, limit)).toMatchObject({ allowed: false, retryAfterSeconds: 1, writes: 1 });
    t.advance(60);
    expect(await a.take(name, limit)).toMatchObject({ allowed: true, writes: 1 }); // a's last tat is past: idle guess, right
    expect(await b.take(name, limit)).toMatchObject({ allowed: true, writes: 2 }); // b's last tat is past too, but the bucket is busy again
  });

  test('functions have separate buckets', async () => {
    const [x, y] = [fresh(), fresh()];
    const limit = { requestsPerSecond: 1, burst: 2 };
    expect(admitted(await burst(x, limit, 20))).toBe(2);
    expect(admitted(await burst(y, limit, 20))).toBe(2);
  });
});
