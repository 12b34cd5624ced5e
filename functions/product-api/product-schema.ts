import * as z from 'zod/mini';
import { ProductEvents } from './product-events';
import { envelopeSchema } from '../shared/envelope';

export const MAX_PRICE = 1_000_000;

/** At most two decimals, judged on cents so 19.99 (binary 19.989999…) passes. */
export const hasAtMostTwoDecimals = (v: number) => Math.abs(Math.round(v * 100) - v * 100) < 1e-6;

export const priceSchema = z.number().check(
  z.gte(0),
  z.lte(MAX_PRICE),
  z.refine(hasAtMostTwoDecimals, { message: 'must have at most 2 decimal places' }),
);

/** Product as a client sends it: strict, so unknown fields are a 400, not silently dropped. */
export const productInputSchema = z.strictObject({
  name: z.string().check(z.trim(), z.minLength(1), z.maxLength(200)),
  description: z.optional(z.string().check(z.maxLength(2000))),
  price: priceSchema,
  currency: z.string().check(z.regex(/^[A-Z]{3}$/, { message: 'must be an ISO 4217 code of 3 upper-case letters' })),
});
export type ProductInput = z.infer<typeof productInputSchema>;

export const productIdSchema = z.uuid({ message: 'must be a UUID' });

export const changePayloadSchema = z.object({
  productId: z.uuid(),
  acceptedAt: z.number().check(z.int(), z.gte(0)),
  product: z.optional(productInputSchema),
});
export type ChangePayload = z.infer<typeof changePayloadSchema>;

export const productChangeSchema = z.extend(envelopeSchema(changePayloadSchema), {
  eventType: z.enum([ProductEvents.CREATED, ProductEvents.UPDATED, ProductEvents.DELETED]),
});
export type ProductChange = z.infer<typeof productChangeSchema>;
