import { createHmac, randomBytes } from 'node:crypto';

/**
 * Outbound webhook signatures per the Standard Webhooks spec (https://www.standardwebhooks.com/):
 * - `webhook-id`: the message id, the same on every retry of one message (receivers dedupe on it);
 * - `webhook-timestamp`: unix seconds of this attempt;
 * - `webhook-signature`: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, one per active
 *   secret, space-separated (during a secret rotation the old and the new secret both sign).
 * Secrets are `whsec_<base64 of 24..64 random bytes>`; the HMAC key is the decoded bytes.
 *
 * This is not `functions/shared/hmac.ts`: that one is the Stripe-like scheme (hex, `v1=`, no id)
 * used by the inbound payment webhook; receivers of these webhooks use the Standard Webhooks
 * libraries, which verify exactly what this module signs.
 */

export const SECRET_PREFIX = 'whsec_';
const MIN_SECRET_BYTES = 24;
const MAX_SECRET_BYTES = 64;
/** Message ids go into the signed string between dots and into a header: keep them plain. */
const MESSAGE_ID = /^[A-Za-z0-9_-]{1,256}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** A secret or message id that cannot be used to sign (a configuration error, never retried). */
export class WebhookSigningError extends Error {
  override readonly name: string = 'WebhookSigningError';
}

export interface StandardWebhookHeaders {
  readonly 'webhook-id': string;
  readonly 'webhook-timestamp': string;
  readonly 'webhook-signature': string;
}

/** A new signing secret in the spec's form (`whsec_` + base64 of 32 random bytes). */
export function generateSigningSecret(bytes = 32): string {
  if (!Number.isInteger(bytes) || bytes < MIN_SECRET_BYTES || bytes > MAX_SECRET_BYTES) {
    throw new WebhookSigningError(`A signing secret has ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES} bytes, got ${bytes}`);
  }
  return `${SECRET_PREFIX}${randomBytes(bytes).toString('base64')}`;
}

/** The HMAC key of a `whsec_<base64>` secret; throws (without echoing the secret) if it is not one. */
export function decodeSigningSecret(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new WebhookSigningError(`A signing secret starts with ${SECRET_PREFIX}`);
  const encoded = secret.slice(SECRET_PREFIX.length);
  if (encoded.length % 4 !== 0 || !BASE64.test(encoded)) throw new WebhookSigningError('A signing secret is whsec_ followed by base64');
  const key = Buffer.from(encoded, 'base64');
  if (key.length < MIN_SECRET_BYTES || key.length > MAX_SECRET_BYTES) {
    throw new WebhookSigningError(`A signing secret decodes to ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES} bytes, got ${key.length}`);
  }
  return key;
}

/** Unix seconds, as the `webhook-timestamp` header carries them. */
export function unixSeconds(at: Date): number {
  return Math.floor(at.getTime() / 1000);
}

/** One `v1,<base64>` signature of a message with one secret. */
export function signOnce(secret: string, id: string, timestamp: number, body: string | Buffer): string {
  const mac = createHmac('sha256', decodeSigningSecret(secret));
  mac.update(`${id}.${timestamp}.`, 'utf8');
  mac.update(body);
  return `v1,${mac.digest('base64')}`;
}

export interface SignInput {
  /** The message id; the same on every retry of the message. */
  readonly id: string;
  /** The exact bytes sent: the signature covers them, not a re-serialisation. */
  readonly body: string | Buffer;
  /** The active secrets, newest first; each signs (rotation). */
  readonly secrets: readonly string[];
  /** The attempt's time; defaults to now. */
  readonly at?: Date;
}

/** The three Standard Webhooks headers for one delivery attempt. */
export function signStandardWebhook(input: SignInput): StandardWebhookHeaders {
  if (!MESSAGE_ID.test(input.id)) throw new WebhookSigningError('A webhook id is 1 to 256 characters of [A-Za-z0-9_-]');
  if (input.secrets.length === 0) throw new WebhookSigningError('No signing secret configured');
  const timestamp = unixSeconds(input.at ?? new Date());
  const signature = input.secrets.map((secret) => signOnce(secret, input.id, timestamp, input.body)).join(' ');
  return { 'webhook-id': input.id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature };
}

/** The spec's recommended JSON payload: `{ type, timestamp, data }`, from a library event envelope. */
export function standardPayload(event: { readonly eventType: string; readonly occurredAt: string }, data: unknown = event): string {
  return JSON.stringify({ type: event.eventType, timestamp: event.occurredAt, data });
}
