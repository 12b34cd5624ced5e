import { BACKOFF_DEFAULTS, nextDelay, parseRetryAfter } from '../../../functions/shared/outbound-webhook/backoff';

describe('webhook retry backoff (exponential, full jitter, bounded)', () => {
  test('the ceiling doubles from 5 s and stops at 1 h; random 1 reaches it, 0 gives 0', () => {
    const ceilings = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => nextDelay(n, { random: () => 0.999999999 }));
    expect(ceilings).toEqual([5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 640_000, 1_280_000].map((c) => Math.floor(c * 0.999999999)));
    expect(nextDelay(9, { random: () => 0, maxAttempts: 50 })).toBe(0);
    expect(nextDelay(30, { random: () => 0.999999999, maxAttempts: 50 })).toBe(Math.floor(3_600_000 * 0.999999999));
    expect(nextDelay(1000, { random: () => 0.5, maxAttempts: 5000 })).toBe(1_800_000);
  });

  test('deterministic with a given random source; full jitter spreads over [0, ceiling)', () => {
    const seq = [0.1, 0.7, 0.3];
    let i = 0;
    const random = () => seq[i++ % seq.length];
    expect([nextDelay(1, { random }), nextDelay(2, { random }), nextDelay(3, { random })]).toEqual([500, 7_000, 6_000]);
    const samples = Array.from({ length: 2000 }, () => nextDelay(4)!);
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...samples)).toBeLessThan(40_000);
    expect(new Set(samples.map((s) => Math.floor(s / 4_000))).size).toBe(10); // every tenth of the range is hit
  });

  test('after maxAttempts attempts there is no next delay (dead-letter path)', () => {
    expect(BACKOFF_DEFAULTS.maxAttempts).toBe(10);
    expect(nextDelay(9)).toBeDefined();
    expect(nextDelay(10)).toBeUndefined();
    expect(nextDelay(3, { maxAttempts: 3 })).toBeUndefined();
  });

  test('Retry-After raises the delay, never above the cap', () => {
    expect(nextDelay(1, { random: () => 0, retryAfterMs: 30_000 })).toBe(30_000);
    expect(nextDelay(1, { random: () => 0, retryAfterMs: 86_400_000 })).toBe(3_600_000);
    expect(parseRetryAfter('120')).toBe(120_000);
    expect(parseRetryAfter('Sun, 29 Nov 2026 08:01:00 GMT', new Date('2026-11-29T08:00:00Z'))).toBe(60_000);
    expect(parseRetryAfter('Sun, 29 Nov 2026 07:00:00 GMT', new Date('2026-11-29T08:00:00Z'))).toBe(0);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });

  test('bad input is refused, a bad random source cannot make a negative or NaN delay', () => {
    expect(() => nextDelay(0)).toThrow(RangeError);
    expect(() => nextDelay(1.5)).toThrow(RangeError);
    expect(() => nextDelay(1, { baseMs: 0 })).toThrow(RangeError);
    expect(() => nextDelay(1, { baseMs: 10, capMs: 5 })).toThrow(RangeError);
    expect(nextDelay(2, { random: () => NaN })).toBe(0);
    expect(nextDelay(2, { random: () => -3 })).toBe(0);
    expect(nextDelay(2, { random: () => 7 })).toBe(10_000);
  });
});
