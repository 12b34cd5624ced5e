import * as z from 'zod/mini';
import { callerSchema } from './caller-identity';
import { PRODUCT_TEXT_RULES, ProductEvents } from '../../lib/product-api/contract';
import { envelopeSchema } from '../shared/envelope';

export const MAX_PRICE = 1_000_000;

const NAME = new RegExp(PRODUCT_TEXT_RULES.namePattern);
const DESCRIPTION = new RegExp(PRODUCT_TEXT_RULES.descriptionPattern);

/**
 * Why a text fails its rule, in words a caller can act on: a character that is refused
 * (with its code point and position), a length, or a blank name.
 */
export function describeTextProblem(value: string, field: 'name' | 'description'): string {
  const allowed = field === 'name' ? (c: number) => c > 0x1f && (c < 0x7f || c > 0x9f)
    : (c: number) => c === 0x09 || c === 0x0a || c === 0x0d || (c > 0x1f && (c < 0x7f || c > 0x9f));
  let position = 0;
  for (let i = 0; i < value.length; i++, position++) {
    const unit = value.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < value.length) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) { i++; continue; }
    }
    const hex = `U+${unit.toString(16).toUpperCase().padStart(4, '0')}`;
    if (unit >= 0xd800 && unit <= 0xdfff) return `must not contain an unpaired surrogate (${hex} at character ${position + 1})`;
    if (!allowed(unit)) return `must not contain control characters (${hex} at character ${position + 1})`;
  }
  const max = field === 'name' ? PRODUCT_TEXT_RULES.nameMaxLength : PRODUCT_TEXT_RULES.descriptionMaxLength;
  if (position > max) return `must be at most ${max} characters`;
  if (field === 'name' && value.trim() === '') return 'must not be blank';
  return 'is invalid';
}

/** A zod check from a contract pattern, with the message of {@link describeTextProblem}. */
function textRule(pattern: RegExp, field: 'name' | 'description') {
  return (value: string, ctx: z.core.$RefinementCtx<string>) => {
    if (!pattern.test(value)) ctx.issues.push({ code: 'custom', message: describeTextProblem(value, field), input: value });
  };
}

/** At most two decimals, judged on cents so 19.99 (binary 19.989999…) passes. */
export const hasAtMostTwoDecimals = (v: number) => Math.abs(Math.round(v * 100) - v * 100) < 1e-6;

export const priceSchema = z.number().check(
  z.gte(0),
  z.lte(MAX_PRICE),
  z.refine(hasAtMostTwoDecimals, { message: 'must have at most 2 decimal places' }),
);

/** A product name (body field, or `?name=` of a list): the contract's rule, then trimmed. */
export const productNameSchema = z.string().check(z.superRefine(textRule(NAME, 'name')), z.trim());

/**
 * Product as a client sends it: strict, so unknown fields are a 400, not silently dropped.
 * `name` and `description` obey the contract's text rules, the very patterns the API
 * Gateway model holds; `name` is stored trimmed.
 */
export const productInputSchema = z.strictObject({
  name: productNameSchema,
  description: z.optional(z.string().check(z.superRefine(textRule(DESCRIPTION, 'description')))),
  price: priceSchema,
  currency: z.string().check(z.regex(/^[A-Z]{3}$/, { message: 'must be an ISO 4217 code of 3 upper-case letters' })),
});
export type ProductInput = z.infer<typeof productInputSchema>;

export const productIdSchema = z.uuid({ message: 'must be a UUID' });

export const changePayloadSchema = z.object({
  productId: z.uuid(),
  acceptedAt: z.number().check(z.int(), z.gte(0)),
  /** Who asked for the change; absent only on changes accepted before callers were recorded. */
  caller: z.optional(callerSchema),
  product: z.optional(productInputSchema),
});
export type ChangePayload = z.infer<typeof changePayloadSchema>;

export const productChangeSchema = z.extend(envelopeSchema(changePayloadSchema), {
  eventType: z.enum([ProductEvents.CREATED, ProductEvents.UPDATED, ProductEvents.DELETED]),
});
export type ProductChange = z.infer<typeof productChangeSchema>;
