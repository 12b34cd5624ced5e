import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type * as z from 'zod/mini';
import { dynamoDbClient } from './clients/dynamodb';
import { createEventIdempotency } from './idempotency';
import { validate } from './validation';

export interface TaskOptions<S extends z.core.$ZodType> {
  readonly logger: Logger;
  /** The task's input; a bad one throws `ValidationError`, which the state machine does not retry. */
  readonly schema: S;
  /** Idempotency key prefix: one record per (event id, step), the plan's processed_events. */
  readonly step: string;
  /** The Powertools idempotency table (from the handler's config). */
  readonly idempotencyTableName: string;
}

/**
 * The Step Functions task pipeline: logger with the Lambda context and the saga's
 * correlation id, input validation, then the logic under Powertools idempotency keyed on
 * the triggering `eventId` and the step. Errors leave with their `name`, which Step
 * Functions matches in Retry and Catch.
 */
export function taskHandler<S extends z.core.$ZodType, R extends Record<string, unknown>>(
  options: TaskOptions<S>,
  logic: (input: z.infer<S> & { eventId: string }) => Promise<R>,
) {
  const { logger, schema, step, idempotencyTableName } = options;
  const idempotency = createEventIdempotency(step, dynamoDbClient, idempotencyTableName);
  const once = idempotency.wrap(logic);
  return middy<unknown, R>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event: unknown, context: Context) => {
      const input = validate(schema, event, `${step} input`) as z.infer<S> & { eventId: string; correlationId?: string };
      logger.appendKeys({ correlationId: input.correlationId, eventId: input.eventId, step });
      idempotency.registerLambdaContext(context);
      return once(input) as Promise<R>;
    });
}
