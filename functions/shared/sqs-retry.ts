/**
 * SQS consumers whose records are independent (standard queues) and retried later by their own
 * visibility timeout: a batch's records run concurrently and fail alone (partial batch response),
 * and a record that is not done yet comes back after the delay its logic chose (backoff with
 * jitter, a Retry-After), not after the queue's fixed visibility. BuildPipeline's webhook deliverer
 * and LambdaRuntimeService's result and canary consumers share it.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { sqsClient } from './clients/sqs';

/** A record SQS redelivers after the visibility {@link retryLater} set (or the queue's, when attempts are spent). */
export class RecordNotDoneError extends Error {
  override readonly name: string = 'RecordNotDoneError';
}

/**
 * The queue of a record, from its `eventSourceARN` (arn:aws:sqs:region:account:name). The SQS
 * client sends to its endpoint (AWS_ENDPOINT_URL_SQS locally) with this URL as a parameter,
 * so no GetQueueUrl call (nor its IAM action) is needed.
 */
export function queueUrlOf(arn: string): string {
  const [, partition, service, region, account, name] = arn.split(':');
  if (service !== 'sqs' || !region || !account || !name) throw new Error(`Not an SQS queue ARN: ${arn}`);
  const suffix = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://sqs.${region}.${suffix}/${account}/${name}`;
}

/**
 * Makes the record come back after `delayMs` (whole seconds, at least 1: 0 would retry at once) and
 * returns the visibility set. A failure to set it is logged and swallowed: the record is still
 * failed by the caller and comes back after the queue's own visibility timeout instead.
 */
export async function retryLater(record: SQSRecord, delayMs: number, logger: Logger, fields: Record<string, unknown>): Promise<number> {
  const visibilityTimeout = Math.max(1, Math.ceil(delayMs / 1000));
  try {
    await sqsClient.send(new ChangeMessageVisibilityCommand({
      QueueUrl: queueUrlOf(record.eventSourceARN), ReceiptHandle: record.receiptHandle, VisibilityTimeout: visibilityTimeout,
    }));
  } catch (error) {
    logger.error('Could not set the retry delay', { ...fields, error: error as Error });
  }
  return visibilityTimeout;
}

/**
 * A consumer of independent records: each runs concurrently, a failure fails that record alone.
 * A {@link RecordNotDoneError} was logged by the logic; any other error is logged here as `failureMessage`.
 */
export function concurrentRecordsHandler(logger: Logger, processRecord: (record: SQSRecord) => Promise<void>, failureMessage = 'Record failed') {
  return middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(sqsPartialBatchFailure({ logger: false as any }))
    .handler((async (event: SQSEvent) => Promise.allSettled(event.Records.map(async (record) => {
      try {
        await processRecord(record);
      } catch (error) {
        if (!(error instanceof RecordNotDoneError)) logger.error(failureMessage, { messageId: record.messageId, error: error as Error });
        throw error;
      }
    }))) as any);
}
