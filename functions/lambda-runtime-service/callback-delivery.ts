/**
 * The callback of an async invocation (`callbackUrl`, as OpenFaaS's `X-Callback-Url`): the result or
 * error POSTed once, signed (Standard Webhooks, `webhook-id` = the invocation id, so a receiver dedupes
 * a repeat), through the outbound-webhook kit's SSRF guard (checked on the connected address), no
 * redirects followed, bounded reads. Retrying is the SQS consumer's: this answers a decision.
 *
 * The signing secret is a copy of BuildPipeline's rule (contexts import nothing of each other): a
 * plain string, or JSON `{ current, previous?, previousUntil? }`; a value without `whsec_` is the
 * base64 of the key. Both keys sign while `previousUntil` is ahead (rotation).
 */
import {
  CallbackSettings, DEFAULT_CALLBACK_SETTINGS,
} from '../../lib/lambda-runtime-service/contract';
import { ConfigurationError } from '../shared/config';
import { deliver, nextDelay, type DeliveryResult, type GuardedAgentOptions } from '../shared/outbound-webhook';
import { decodeSigningSecret, SECRET_PREFIX } from '../shared/outbound-webhook/standard-webhooks-signer';

/** SQS takes a visibility timeout up to 12 h; a minute is kept for the time since this receive. */
const SQS_MAX_VISIBILITY_MS = (43_200 - 60) * 1000;

/** The stored secret is unusable: a deployment defect, never the receiver's fault (the record is retried). */
export class CallbackSecretError extends Error {
  override readonly name: string = 'CallbackSecretError';
}

function normalize(value: string): string {
  const secret = value.startsWith(SECRET_PREFIX) ? value : `${SECRET_PREFIX}${value}`;
  try {
    decodeSigningSecret(secret);
  } catch (error) {
    throw new CallbackSecretError(`The callback signing secret is unusable: ${(error as Error).message}`);
  }
  return secret;
}

/** The secrets that sign now, newest first. */
export function signingSecrets(secretString: string | undefined, now: Date): string[] {
  if (!secretString) throw new CallbackSecretError('The callback signing secret is empty');
  if (!secretString.trimStart().startsWith('{')) return [normalize(secretString.trim())];
  let parsed: { current?: unknown; previous?: unknown; previousUntil?: unknown };
  try {
    parsed = JSON.parse(secretString);
  } catch {
    throw new CallbackSecretError('The callback signing secret is neither JSON { current, previous?, previousUntil? } nor a plain string');
  }
  if (typeof parsed.current !== 'string') throw new CallbackSecretError('The callback signing secret has no "current" string');
  const secrets = [normalize(parsed.current)];
  if (typeof parsed.previous === 'string' && parsed.previous && typeof parsed.previousUntil === 'string'
    && Date.parse(parsed.previousUntil) > now.getTime()) {
    secrets.push(normalize(parsed.previous));
  }
  return secrets;
}

/**
 * The secret string, read once per `ttlMs` per container (one GetSecretValue; a rotation is seen that
 * late at most). A receiver answering 401/403 may already hold a rotated secret: `refetchIfChanged`
 * reads again, at most every `minRefetchMs`, so hostile receivers cannot drive the reads.
 */
export class CallbackSecretCache {
  private cached?: { value: string | undefined; at: number };
  private lastForced = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly fetch: () => Promise<string | undefined>,
    private readonly ttlMs = 300_000,
    private readonly minRefetchMs = 30_000,
    private readonly nowMs = Date.now,
  ) {}

  async get(): Promise<string | undefined> {
    if (!this.cached || this.nowMs() - this.cached.at >= this.ttlMs) this.cached = { value: await this.fetch(), at: this.nowMs() };
    return this.cached.value;
  }

  /** The value read again if allowed now and different from the one held; otherwise undefined. */
  async refetchIfChanged(): Promise<string | undefined> {
    if (this.nowMs() - this.lastForced < this.minRefetchMs) return undefined;
    this.lastForced = this.nowMs();
    const before = this.cached?.value;
    this.cached = { value: await this.fetch(), at: this.nowMs() };
    return this.cached.value !== before ? this.cached.value : undefined;
  }
}

/** CALLBACK_SETTINGS (JSON, fields optional over the defaults), refused at init when a value is out of range. */
export function readCallbackSettings(json: string): CallbackSettings {
  let parsed: unknown;
  try { parsed = JSON.parse(json); } catch { parsed = undefined; }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigurationError('CALLBACK_SETTINGS must be a JSON object');
  const settings = { ...DEFAULT_CALLBACK_SETTINGS, ...(parsed as Partial<CallbackSettings>) };
  const ok = Number.isInteger(settings.maxAttempts) && settings.maxAttempts >= 1
    && settings.baseDelayMs > 0 && settings.maxDelayMs >= settings.baseDelayMs && settings.timeoutMs > 0;
  if (!ok) throw new ConfigurationError('CALLBACK_SETTINGS: maxAttempts >= 1, baseDelayMs > 0, maxDelayMs >= baseDelayMs, timeoutMs > 0');
  return settings;
}

export interface CallbackServices {
  readonly settings: CallbackSettings;
  readonly secrets: Pick<CallbackSecretCache, 'get' | 'refetchIfChanged'>;
  readonly now: () => Date;
  /** Guard options beyond the production defaults: tests only (loopback receivers, a stub resolver, a test CA). */
  readonly guard?: Omit<GuardedAgentOptions, 'allowHttp'>;
  /** Jitter source; Math.random unless a test fixes it. */
  readonly random?: () => number;
}

/** The body POSTed: what finished, and its result or error. */
export interface CallbackBody {
  readonly invocationId: string;
  readonly functionName: string;
  readonly status: string;
  readonly result?: unknown;
  readonly error?: { readonly errorType?: string; readonly errorMessage?: string };
}

/**
 * `delivered`; final without a retry (`rejected`: a 4xx other than 408/429, a 3xx or a 410; `blocked`:
 * the SSRF guard or a bad URL); `retry` after `delayMs`; `exhausted` when the attempts are spent.
 */
export type CallbackDecision =
  | { readonly state: 'delivered' | 'rejected' | 'blocked'; readonly reason: string }
  | { readonly state: 'retrying'; readonly delayMs: number; readonly reason: string }
  | { readonly state: 'exhausted'; readonly reason: string };

const why = (result: DeliveryResult) => (result.status ? `HTTP ${result.status}` : result.error ? `${result.error.code}: ${result.error.message}` : 'no response');

/** One attempt (`attempt` = this record's receive count, 1-based) and what to do next. */
export async function sendCallback(url: string, body: CallbackBody, attempt: number, services: CallbackServices): Promise<CallbackDecision> {
  const { settings } = services;
  const send = (secretString: string | undefined) => {
    const at = services.now();
    return deliver({ url }, { id: body.invocationId, body: JSON.stringify(body) }, {
      ...services.guard,
      secrets: signingSecrets(secretString, at),
      connectTimeoutMs: Math.min(settings.timeoutMs, 5_000),
      totalTimeoutMs: settings.timeoutMs,
      attempt,
      now: () => at,
    });
  };
  let result = await send(await services.secrets.get());
  if (result.status === 401 || result.status === 403) {
    // Maybe signed with a secret rotated since this container read it: once more with the fresh one.
    const fresh = await services.secrets.refetchIfChanged();
    if (fresh !== undefined) result = await send(fresh);
  }
  switch (result.outcome) {
    case 'delivered': return { state: 'delivered', reason: why(result) };
    case 'blocked': return { state: 'blocked', reason: why(result) };
    case 'gone':
    case 'rejected':
    case 'redirected': return { state: 'rejected', reason: `${why(result)} (${result.outcome}, not retried)` };
    default: break;
  }
  const delayMs = nextDelay(attempt, {
    baseMs: settings.baseDelayMs,
    capMs: Math.max(settings.baseDelayMs, Math.min(settings.maxDelayMs, SQS_MAX_VISIBILITY_MS)),
    maxAttempts: settings.maxAttempts,
    retryAfterMs: result.retryAfterMs,
    random: services.random,
  });
  if (delayMs === undefined) return { state: 'exhausted', reason: `${why(result)}; ${attempt} attempts spent` };
  return { state: 'retrying', delayMs, reason: why(result) };
}
