import type { WebhookSecretValue } from '../../lib/build-pipeline/contract';
import { decodeSigningSecret, generateSigningSecret, SECRET_PREFIX } from '../shared/outbound-webhook/standard-webhooks-signer';

/**
 * The webhook signing secret ({@link WebhookSecretValue}) as the deliverer and the rotation read it.
 *
 * The construct cannot run our generator at synth, so the secret starts as Secrets Manager's
 * `generateSecretString` makes it: `{"current":"<64 letters and digits>"}`. A value without the
 * `whsec_` prefix is read as the base64 of the key (64 alphanumerics are valid base64: 48 bytes),
 * so receivers use `whsec_<value>`; the first rotation writes prefixed values. A plain string
 * (not JSON, e.g. a secret the user brings) is taken as `current` the same way.
 */

/** The stored value is not a usable signing secret: a deployment defect, never a receiver's fault. */
export class WebhookSecretError extends Error {
  override readonly name: string = 'WebhookSecretError';
}

/** `whsec_<base64>`, adding the prefix to a bare base64 value; throws (never echoing it) if the key does not decode. */
export function normalizeSigningSecret(value: string): string {
  const secret = value.startsWith(SECRET_PREFIX) ? value : `${SECRET_PREFIX}${value}`;
  try {
    decodeSigningSecret(secret);
  } catch (error) {
    throw new WebhookSecretError(`The webhook signing secret is unusable: ${(error as Error).message}`);
  }
  return secret;
}

/** Parses and normalizes a stored value (JSON WebhookSecretValue or a plain string). */
export function parseWebhookSecret(secretString: string | undefined): WebhookSecretValue {
  if (!secretString) throw new WebhookSecretError('The webhook signing secret is empty');
  if (!secretString.trimStart().startsWith('{')) return { current: normalizeSigningSecret(secretString.trim()) };
  let parsed: Partial<Record<keyof WebhookSecretValue, unknown>>;
  try {
    parsed = JSON.parse(secretString);
  } catch {
    throw new WebhookSecretError('The webhook signing secret is neither JSON { current, previous?, previousUntil? } nor a plain string');
  }
  if (typeof parsed.current !== 'string') throw new WebhookSecretError('The webhook signing secret has no "current" string');
  const value: { current: string; previous?: string; previousUntil?: string } = { current: normalizeSigningSecret(parsed.current) };
  if (typeof parsed.previous === 'string' && parsed.previous) {
    if (typeof parsed.previousUntil !== 'string' || Number.isNaN(Date.parse(parsed.previousUntil))) {
      throw new WebhookSecretError('The webhook signing secret has "previous" without an ISO "previousUntil"');
    }
    value.previous = normalizeSigningSecret(parsed.previous);
    value.previousUntil = parsed.previousUntil;
  }
  return value;
}

/** The secrets that sign now, newest first: `current`, and `previous` while `previousUntil` is in the future. */
export function activeSecrets(value: WebhookSecretValue, now: Date): string[] {
  const previousSigns = value.previous && value.previousUntil && Date.parse(value.previousUntil) > now.getTime();
  return previousSigns ? [value.current, value.previous!] : [value.current];
}

/** The value a rotation stores: a new current, the old current kept signing for `overlapSeconds`. */
export function rotatedSecret(old: WebhookSecretValue, now: Date, overlapSeconds: number): WebhookSecretValue {
  return {
    current: generateSigningSecret(),
    previous: old.current,
    previousUntil: new Date(now.getTime() + overlapSeconds * 1000).toISOString(),
  };
}

export interface SecretCacheOptions {
  /** Reads the secret string from the store (one GetSecretValue). */
  readonly fetch: () => Promise<string | undefined>;
  /** How long a read value is used; a rotation is seen at most this late. */
  readonly ttlMs: number;
  /** A forced refetch (a receiver said 401/403: maybe it already has the rotated secret) at most this often. */
  readonly minRefetchIntervalMs: number;
  readonly now?: () => number;
}

/** The secret value, cached per container with a TTL, and refetched early when a rotation is suspected. */
export class WebhookSecretCache {
  private value?: { secret: WebhookSecretValue; at: number; raw: string | undefined };
  private lastForcedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: SecretCacheOptions) {}

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  async get(): Promise<WebhookSecretValue> {
    if (this.value && this.now() - this.value.at < this.options.ttlMs) return this.value.secret;
    return this.load();
  }

  /** A fresh value if a forced refetch is allowed now and the stored value changed, else undefined. */
  async refetchIfChanged(): Promise<WebhookSecretValue | undefined> {
    const now = this.now();
    if (now - this.lastForcedAt < this.options.minRefetchIntervalMs) return undefined;
    this.lastForcedAt = now;
    const before = this.value?.raw;
    const secret = await this.load();
    return this.value!.raw === before ? undefined : secret;
  }

  private async load(): Promise<WebhookSecretValue> {
    const raw = await this.options.fetch();
    const secret = parseWebhookSecret(raw);
    this.value = { secret, at: this.now(), raw };
    return secret;
  }
}
