import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';

/**
 * The pipelines for invocations that are not HTTP, SQS or Step Functions tasks: the logger
 * with the Lambda context (`resetKeys`, so keys never leak into the next warm invocation)
 * around the logic. Errors leave as they are: Lambda's retry and failure destination
 * (streams), or the schedule's retry policy and DLQ, take them.
 */
function logged<E, R>(logger: Logger, logic: (event: E, context: Context) => Promise<R>) {
  return middy<E, R>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler((event: E, context: Context) => logic(event, context));
}

/**
 * DynamoDB stream batches: the logic reports the earliest record that failed
 * (`batchItemFailures`), so Lambda retries the stream from there and bisects a poison record.
 */
export function streamHandler(logger: Logger, logic: (event: DynamoDBStreamEvent, context: Context) => Promise<DynamoDBBatchResponse>) {
  return logged(logger, logic);
}

/**
 * Scheduled runs and operator invocations: each run gets a correlation id of its own (a
 * schedule's payload carries none), on every log line of the run.
 */
export function scheduledHandler<E, R>(logger: Logger, logic: (event: E, context: Context) => Promise<R>) {
  return logged<E, R>(logger, async (event, context) => {
    logger.appendKeys({ correlationId: randomUUID() });
    return logic(event, context);
  });
}
