import * as z from 'zod/mini';
import type { SessionPlan } from './saga-types';

const id = z.string().check(z.regex(/^[A-Za-z0-9_-]{1,128}$/, { message: 'must be 1–128 letters, digits, _ or -' }));

/** The saga input every step receives (extra state-machine fields pass through). */
export const sagaInputSchema = z.looseObject({
  sagaId: id,
  eventId: z.string().check(z.minLength(1), z.maxLength(128)),
  correlationId: z.string().check(z.minLength(1), z.maxLength(128)),
  paymentId: id,
  studentId: id,
  courseId: id,
});

/** The compensation input: the saga input plus what Catch put at `$.error`. */
export const compensationInputSchema = z.looseObject({
  ...sagaInputSchema.shape,
  error: z.optional(z.looseObject({ Error: z.optional(z.string()), Cause: z.optional(z.string()) })),
});

/** The session plan from the environment the construct sets. */
export function sessionPlanFromEnv(env: NodeJS.ProcessEnv = process.env): SessionPlan {
  return {
    window: Number(env.SESSION_WINDOW ?? 4),
    total: Number(env.TOTAL_SESSIONS ?? 30),
    intervalDays: Number(env.SESSION_INTERVAL_DAYS ?? 7),
    time: env.SESSION_TIME ?? '09:00',
  };
}
