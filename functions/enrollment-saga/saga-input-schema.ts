import * as z from 'zod/mini';

const id = z.string().check(z.regex(/^[A-Za-z0-9_-]{1,128}$/, { message: 'must be 1–128 letters, digits, _ or -' }));

/** The saga input every step receives (extra state-machine fields pass through). */
export const sagaInputSchema = z.looseObject({
  sagaId: id,
  eventId: z.string().check(z.minLength(1), z.maxLength(128)),
  correlationId: z.string().check(z.minLength(1), z.maxLength(128)),
  paymentId: id,
  studentId: id,
  courseId: id,
  amount: z.int().check(z.gte(0)),
  currency: z.string().check(z.regex(/^[A-Za-z]{3}$/, { message: 'must be an ISO 4217 code' })),
});

/** The compensation input: the saga input plus what Catch put at `$.error`. */
export const compensationInputSchema = z.looseObject({
  ...sagaInputSchema.shape,
  error: z.optional(z.looseObject({ Error: z.optional(z.string()), Cause: z.optional(z.string()) })),
});
