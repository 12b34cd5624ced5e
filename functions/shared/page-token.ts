import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Page tokens (`nextToken`) are `<payload>.<mac>`: the payload is base64url JSON, the mac an
 * HMAC-SHA256 over a label and the payload's exact characters, keyed with a secret the
 * construct creates. An edited, truncated, re-encoded or invented token fails the mac before
 * its payload is even parsed. Each API passes its own label (ending in a newline, so no
 * label is a prefix of label + payload of another), so a mac made for one API never
 * verifies in another even if two shared a secret.
 */
const PAYLOAD = /^[A-Za-z0-9_-]{1,4000}$/; // a 200-emoji name query fits (its name appears twice)
const MAC = /^[A-Za-z0-9_-]{43}$/; // 32 bytes, base64url without padding

const macOf = (key: Uint8Array, label: string, payload: string) => createHmac('sha256', key).update(label).update(payload).digest();

export function signPageToken(key: Uint8Array, label: string, value: unknown): string {
  const payload = Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
  return `${payload}.${macOf(key, label, payload).toString('base64url')}`;
}

/** The token's value if this key signed exactly this token under this label, else undefined (never throws). */
export function openPageToken(key: Uint8Array, label: string, token: string): unknown {
  const dot = token.indexOf('.');
  if (dot < 0) return undefined;
  const payload = token.slice(0, dot);
  const mac = token.slice(dot + 1);
  if (!PAYLOAD.test(payload) || !MAC.test(mac)) return undefined;
  const given = Buffer.from(mac, 'base64url');
  // A 43-character base64url string can carry unused low bits: only the canonical spelling counts.
  if (given.length !== 32 || given.toString('base64url') !== mac) return undefined;
  if (!timingSafeEqual(given, macOf(key, label, payload))) return undefined;
  try {
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

export interface SecretKeyOptions {
  /** Reads the secret's string value (Secrets Manager in the handler). */
  readonly fetch: () => Promise<string | undefined>;
  /** How long a container keeps the key before reading the secret again. */
  readonly maxAgeMs: number;
  readonly now?: () => number;
}

/**
 * The signing key, read from the secret once per container and kept `maxAgeMs`; concurrent
 * callers share one read, and a failed read is not cached (the next request tries again).
 */
export function cachedSecretKey(options: SecretKeyOptions): () => Promise<Uint8Array> {
  const now = options.now ?? Date.now;
  let cached: { key: Promise<Uint8Array>; at: number } | undefined;
  return () => {
    if (cached && now() - cached.at < options.maxAgeMs) return cached.key;
    const key = options.fetch().then((value) => {
      if (!value || value.length < 32) throw new Error('The page token secret is missing or shorter than 32 characters');
      return Buffer.from(value, 'utf8');
    });
    const entry = { key, at: now() };
    cached = entry;
    key.catch(() => { if (cached === entry) cached = undefined; });
    return key;
  };
}
