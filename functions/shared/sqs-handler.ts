import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type * as z from 'zod/mini';
import { correlationIdFromMessage } from './correlation';
import type { EventEnvelope } from './envelope';
import { describeIssue, issuePath } from './validation';

export interface RecordContext {
  readonly record: SQSRecord;
  readonly context: Context;
  readonly correlationId: string;
}

/** Work on one validated record: gets the envelope as the schema parsed it. */
export type RecordLogic<E> = (envelope: E, ctx: RecordContext) => Promise<unknown>;

export interface SqsBatchOptions<S extends z.core.$ZodType> {
  readonly logger: Logger;
  /** Validates the whole envelope (see envelopeSchema); a record that fails it fails alone. */
  readonly schema: S;
  /** Runs once per invocation before any record, e.g. to register the Lambda context. */
  readonly beforeBatch?: (context: Context) => void;
  /**
   * Where the library envelope sits in the parsed body (for logs and the correlation id):
   * the body itself by default; `detail` for EventBridge events delivered to a queue.
   */
  readonly envelopeOf?: (parsed: z.infer<S>) => EventEnvelope<unknown>;
}

class SkippedAfterGroupFailure extends Error {
  override readonly name = 'SkippedAfterGroupFailure';
}

function parseRecord<S extends z.core.$ZodType>(schema: S, body: string): z.infer<S> {
  const result = (schema as any)['~standard'].validate(JSON.parse(body)) as { value?: unknown; issues?: ReadonlyArray<any> };
  if (result.issues?.length) {
    const issue = result.issues[0];
    throw new Error(`Invalid envelope at '${issuePath(issue)}': ${describeIssue(issue)}`);
  }
  return result.value as z.infer<S>;
}

/**
 * SQS batch pipeline. Records run one at a time, in order; on a FIFO queue, once a record of a message
 * group fails, the group's later records fail unprocessed (order within a group is the FIFO
 * promise), while other groups go on. Returns Promise.allSettled-shaped results in record
 * order, which is what @middy/sqs-partial-batch-failure turns into batchItemFailures.
 */
export function sqsBatchHandler<S extends z.core.$ZodType>(options: SqsBatchOptions<S>, logic: RecordLogic<z.infer<S>>) {
  const { logger, schema, beforeBatch } = options;
  const envelopeOf = options.envelopeOf ?? ((parsed: z.infer<S>) => parsed as EventEnvelope<unknown>);
  return middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(sqsPartialBatchFailure({ logger: false as any }))
    .handler((async (event: SQSEvent, context: Context) => {
      beforeBatch?.(context);
      const failedGroups = new Set<string>();
      const results: PromiseSettledResult<unknown>[] = [];
      for (const record of event.Records) {
        const group = record.attributes?.MessageGroupId;
        if (group !== undefined && failedGroups.has(group)) {
          results.push({ status: 'rejected', reason: new SkippedAfterGroupFailure(`Skipped: earlier record of group ${group} failed`) });
          continue;
        }
        let correlationId = correlationIdFromMessage(record.messageAttributes as any);
        try {
          const envelope = parseRecord(schema, record.body);
          const meta = envelopeOf(envelope);
          correlationId = correlationIdFromMessage(record.messageAttributes as any, meta);
          logger.appendKeys({ correlationId, messageId: record.messageId, eventId: meta.eventId });
          const value = await logic(envelope, { record, context, correlationId });
          results.push({ status: 'fulfilled', value });
        } catch (error) {
          logger.error('Record failed', { messageId: record.messageId, correlationId, error: error as Error });
          if (group !== undefined) failedGroups.add(group);
          results.push({ status: 'rejected', reason: error });
        } finally {
          logger.removeKeys(['correlationId', 'messageId', 'eventId']);
        }
      }
      return results;
    }) as any);
}
