/**
 * Retry delays for webhook deliveries: exponential backoff with full jitter
 * (delay = random × min(cap, base × 2^(attempt − 1))), bounded by a cap and a number of attempts.
 * A receiver's `Retry-After` raises the delay (never above the cap).
 */

export interface BackoffOptions {
  /** The ceiling of the first retry's delay. @default 5_000 ms */
  readonly baseMs?: number;
  /** No delay exceeds this. @default 3_600_000 ms (1 h) */
  readonly capMs?: number;
  /** Attempts in all, the first included; after the last one, {@link nextDelay} answers undefined. @default 10 */
  readonly maxAttempts?: number;
  /** A source of [0, 1): Math.random by default; tests pass a fixed one. */
  readonly random?: () => number;
  /** The receiver's Retry-After, in ms: the delay is at least this (capped). */
  readonly retryAfterMs?: number;
}

export const BACKOFF_DEFAULTS = { baseMs: 5_000, capMs: 3_600_000, maxAttempts: 10 } as const;

/**
 * The delay (ms) before the next attempt, given how many attempts were made (1 after the first
 * failure), or undefined when the attempts are spent and the delivery goes to the dead-letter path.
 */
export function nextDelay(attemptsMade: number, options: BackoffOptions = {}): number | undefined {
  const baseMs = options.baseMs ?? BACKOFF_DEFAULTS.baseMs;
  const capMs = options.capMs ?? BACKOFF_DEFAULTS.capMs;
  const maxAttempts = options.maxAttempts ?? BACKOFF_DEFAULTS.maxAttempts;
  if (!Number.isInteger(attemptsMade) || attemptsMade < 1) throw new RangeError(`attemptsMade is an integer >= 1, got ${attemptsMade}`);
  if (!(baseMs > 0) || !(capMs >= baseMs) || !Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new RangeError('Backoff needs baseMs > 0, capMs >= baseMs and an integer maxAttempts >= 1');
  }
  if (attemptsMade >= maxAttempts) return undefined;
  // 2^(n-1) overflows nothing here: the exponent is clamped before the cap could be passed by much.
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attemptsMade - 1, 52));
  const r = (options.random ?? Math.random)();
  const unit = Number.isFinite(r) ? Math.min(Math.max(r, 0), 1) : 0;
  const jittered = Math.floor(unit * ceiling);
  const floor = Math.min(capMs, Math.max(0, options.retryAfterMs ?? 0));
  return Math.max(jittered, floor);
}

/**
 * A `Retry-After` header in ms (delta seconds or an HTTP date), or undefined when absent or
 * unreadable. Negative and past values are 0.
 */
export function parseRetryAfter(value: string | undefined, now: Date = new Date()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d{1,10}$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}
