import { SignatureCheck, verifySignature } from '../shared/hmac';

/** Headers the payment provider signs with (Stripe-style: HMAC-SHA256 over `timestamp.body`). */
export const SIGNATURE_HEADER = 'x-payment-signature';
export const TIMESTAMP_HEADER = 'x-payment-timestamp';

/** The payment provider's request, to check with the kit's verifier under this webhook's header names. */
export type WebhookSignatureCheck = Omit<SignatureCheck, 'headers'>;

/** Verifies a provider webhook before anything parses its body; throws 401 naming the reason and the header. */
export function verifyWebhookSignature(check: WebhookSignatureCheck): void {
  verifySignature({ ...check, headers: { timestamp: TIMESTAMP_HEADER, signature: SIGNATURE_HEADER } });
}
