import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { SigningSecretCache } from './signing-secrets';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhookSignature } from './webhook-signature';
import { PayloadTooLargeError } from '../shared/errors';
import { getHeader } from '../shared/headers';
import { SignatureMismatchError } from '../shared/hmac';
import { MAX_BODY_BYTES } from '../shared/validation';

export interface VerifyOptions {
  readonly secrets: SigningSecretCache;
  readonly toleranceSeconds: number;
  readonly now: Date;
}

/**
 * Returns the body exactly as the provider signed it, or throws: 413 above the size cap
 * (checked before any hashing), 401 for a missing, stale or wrong signature. A signature
 * that matches no cached secret is checked once more against a fresh read of the secret,
 * so a rotation takes effect at once rather than when the cache expires.
 */
export async function verifyWebhookBody(event: APIGatewayProxyEvent, options: VerifyOptions): Promise<string> {
  const rawBody = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : event.body ?? '';
  if (Buffer.byteLength(rawBody, 'utf8') > MAX_BODY_BYTES) throw new PayloadTooLargeError(`Request body exceeds ${MAX_BODY_BYTES} bytes`);
  const check = (secrets: string[]) => verifyWebhookSignature({
    rawBody,
    timestamp: getHeader(event.headers, TIMESTAMP_HEADER),
    signature: getHeader(event.headers, SIGNATURE_HEADER),
    secrets,
    now: options.now,
    toleranceSeconds: options.toleranceSeconds,
  });
  try {
    check(await options.secrets.get());
  } catch (error) {
    if (!(error instanceof SignatureMismatchError)) throw error;
    const fresh = await options.secrets.refetch();
    if (!fresh) throw error;
    check(fresh);
  }
  return rawBody;
}
