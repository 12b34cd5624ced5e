import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod/mini';

/**
 * What a consumer's queue holds: an EventBridge event as a rule delivers it. Only `source`
 * and `account` are read before the origin check; the detail is validated after it.
 */
export const queuedEventSchema = z.looseObject({
  source: z.optional(z.unknown()),
  account: z.optional(z.unknown()),
  detail: z.optional(z.unknown()),
});
export type QueuedEvent = z.infer<typeof queuedEventSchema>;

/** Where a consumer accepts events from: EventBridge `source`s and AWS accounts. */
export interface AcceptedOrigin {
  readonly sources: readonly string[];
  readonly accounts: readonly string[];
}

/** A comma-separated config value as a list (blanks dropped). */
export const listSetting = (value: string): string[] => value.split(',').map((v) => v.trim()).filter(Boolean);

/**
 * Why an EventBridge event (as a rule delivers it to SQS) is not accepted, or undefined.
 * Anyone who may put events on the bus, or create a rule on it, could otherwise start
 * sagas or cancel enrollments with a forged payment event.
 */
export function originRefusal(event: { source?: unknown; account?: unknown }, origin: AcceptedOrigin): string | undefined {
  if (typeof event.source !== 'string' || !origin.sources.includes(event.source)) {
    return `source '${String(event.source)}' is not one of [${origin.sources.join(', ')}]`;
  }
  if (typeof event.account !== 'string' || !origin.accounts.includes(event.account)) {
    return `account '${String(event.account)}' is not one of [${origin.accounts.join(', ')}]`;
  }
  return undefined;
}

/**
 * A record that can never succeed goes to the queue's DLQ at once, with the reason as a
 * message attribute, and counts as processed: it is not received again and again until
 * `maxReceiveCount` moves it, and the DLQ alarm shows it.
 */
export async function sendToDeadLetterQueue(sqs: SQSClient, queueUrl: string, body: string, reason: string): Promise<void> {
  await sqs.send(new SendMessageCommand({
    QueueUrl: queueUrl,
    MessageBody: body,
    MessageAttributes: { refusedReason: { DataType: 'String', StringValue: reason.slice(0, 1000) } },
  }));
}
