import { createHmac, timingSafeEqual } from 'node:crypto';
import { UnauthorizedError } from './errors';

/**
 * Timestamped HMAC-SHA256 webhook signatures (the Stripe / Standard Webhooks scheme): the
 * signer sends `<timestamp>` (unix seconds) and `v1=<hex HMAC-SHA256 of "<timestamp>.<raw
 * body>">` in two headers; several `v1=` values, comma-separated, cover a key rotation.
 * Inbound webhooks verify with {@link verifySignature}; outbound ones sign with
 * {@link signatureHeader}. The header names are the service's, passed in.
 */

/** The hex signature of a body at a time, with one secret. */
export function signPayload(secret: string, timestamp: string, rawBody: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${rawBody}`, 'utf8').digest('hex');
}

/** The signature header value for outbound webhooks: one `v1=` per active secret. */
export function signatureHeader(secrets: readonly string[], timestamp: string, rawBody: string): string {
  if (secrets.length === 0) throw new Error('No signing secret configured');
  return secrets.map((secret) => `v1=${signPayload(secret, timestamp, rawBody)}`).join(', ');
}

export interface SignatureCheck {
  /** The body exactly as received: the signature covers bytes, not parsed JSON. */
  readonly rawBody: string;
  /** Unix seconds, as sent in the timestamp header. */
  readonly timestamp: string | undefined;
  /** `v1=<hex>`, possibly several comma-separated (the signer signs with each active key). */
  readonly signature: string | undefined;
  /** The active signing secrets: during rotation the old and the new one are both valid. */
  readonly secrets: readonly string[];
  readonly now: Date;
  /** How far the timestamp may be from now, either way (replay window). */
  readonly toleranceSeconds: number;
  /** The header names, for the 401 messages. */
  readonly headers: { readonly timestamp: string; readonly signature: string };
}

/** The signature is well-formed but matches no active secret (perhaps one rotated a moment ago). */
export class SignatureMismatchError extends UnauthorizedError {}

const HEX_SHA256 = /^[0-9a-f]{64}$/;

function candidateSignatures(header: string): Buffer[] {
  return header
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.startsWith('v1='))
    .map((part) => part.slice(3).toLowerCase())
    .filter((hex) => HEX_SHA256.test(hex))
    .map((hex) => Buffer.from(hex, 'hex'));
}

/**
 * Verifies a signed request before anything parses its body; throws 401 naming the reason
 * (and the header). Every comparison is constant-time and every (secret, signature) pair
 * is tried, so timing tells an attacker nothing about which part matched.
 */
export function verifySignature(check: SignatureCheck): void {
  const { headers } = check;
  if (check.secrets.length === 0) throw new Error('No signing secret configured');
  if (!check.timestamp || !/^\d{1,12}$/.test(check.timestamp)) {
    throw new UnauthorizedError(`Missing or malformed ${headers.timestamp} header (unix seconds)`);
  }
  if (!check.signature) throw new UnauthorizedError(`Missing ${headers.signature} header`);
  const skew = Math.abs(check.now.getTime() / 1000 - Number(check.timestamp));
  if (skew > check.toleranceSeconds) {
    throw new UnauthorizedError(`Timestamp outside the ${check.toleranceSeconds} s tolerance: replayed or clock-skewed request`);
  }
  const candidates = candidateSignatures(check.signature);
  if (candidates.length === 0) throw new UnauthorizedError(`Malformed ${headers.signature} header: expected v1=<hex sha256>`);
  let matched = false;
  for (const secret of check.secrets) {
    const expected = Buffer.from(signPayload(secret, check.timestamp, check.rawBody), 'hex');
    for (const candidate of candidates) matched = timingSafeEqual(expected, candidate) || matched;
  }
  if (!matched) throw new SignatureMismatchError('Signature does not match');
}
