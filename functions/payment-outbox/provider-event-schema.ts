import * as z from 'zod/mini';
import type { ProviderEvent } from './payment-state';

/**
 * The provider's webhook body, after the signature check:
 * `{ id, type: 'payment.<pending|succeeded|failed|refunded>', created, data: {...} }`.
 * Ids become table keys, so they are bounded and printable; amounts are integers in
 * minor units (cents), so sums stay exact.
 */
const SAFE_ID = /^[A-Za-z0-9_-]{1,128}$/;
const safeId = z.string().check(z.regex(SAFE_ID, { message: 'must be 1–128 letters, digits, _ or -' }));
const MAX_AMOUNT = 1_000_000_000_000; // minor units: far above any real payment, far below 2^53
const amount = z.number().check(z.int(), z.gt(0), z.lte(MAX_AMOUNT));
const MAX_METADATA_KEYS = 20;

const metadata = z.record(
  z.string().check(z.regex(/^[A-Za-z0-9_.-]{1,64}$/, { message: 'keys must be 1–64 letters, digits, _, . or -' })),
  z.string().check(z.maxLength(500)),
).check(z.refine((m) => Object.keys(m).length <= MAX_METADATA_KEYS, { message: `must have at most ${MAX_METADATA_KEYS} keys` }));

const header = {
  id: safeId,
  created: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }),
};
const outcomeData = z.object({
  paymentId: safeId,
  amount,
  currency: z.string().check(z.regex(/^[A-Z]{3}$/, { message: 'must be an ISO 4217 code of 3 upper-case letters' })),
  metadata: z.optional(metadata),
});

export const providerEventSchema = z.discriminatedUnion('type', [
  z.object({ ...header, type: z.enum(['payment.pending', 'payment.succeeded', 'payment.failed']), data: outcomeData }),
  z.object({ ...header, type: z.literal('payment.refunded'), data: z.object({ paymentId: safeId, refundAmount: amount }) }),
]);
export type ProviderWebhookBody = z.infer<typeof providerEventSchema>;

/** The validated body as the state machine sees it; times normalised to UTC ISO so they compare as strings. */
export function toProviderEvent(body: ProviderWebhookBody): ProviderEvent {
  const occurredAt = new Date(body.created).toISOString();
  if (body.type === 'payment.refunded') {
    return { kind: 'refunded', eventId: body.id, occurredAt, paymentId: body.data.paymentId, refundAmount: body.data.refundAmount };
  }
  const { paymentId, amount: value, currency, metadata: meta } = body.data;
  const kind = body.type.slice('payment.'.length) as 'pending' | 'succeeded' | 'failed';
  return { kind, eventId: body.id, occurredAt, paymentId, amount: value, currency, ...(meta ? { metadata: meta } : {}) };
}
