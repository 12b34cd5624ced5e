import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import * as z from 'zod/mini';
import { OUTBOX_RECORD_TYPE, PaymentOutboxHandlers } from '../../lib/payment-outbox/contract';
import { eventBridgeClient } from '../shared/clients/eventbridge';
import { readConfig } from '../shared/config';
import { envelopeSchema } from '../shared/envelope';
import { EventBridgeSink } from '../shared/eventbridge-sink';
import { streamHandler } from '../shared/invocation-handler';
import { createLogger } from '../shared/logger';
import { publishToSinks, type SequencedEvent } from '../shared/publish-to-sinks';
import { validate } from '../shared/validation';

const contract = PaymentOutboxHandlers.publisher;
const config = readConfig(contract.environment);
const logger = createLogger(contract.serviceName);
// A second sink (e.g. Kafka) joins this list; an event is published once every sink took it.
const sinks = [new EventBridgeSink(eventBridgeClient, config.EVENT_BUS_NAME)];
const outboxEnvelope = envelopeSchema(z.unknown());

const isOutboxInsert = (record: DynamoDBRecord) =>
  record.eventName === 'INSERT' && record.dynamodb?.NewImage?.recordType?.S === OUTBOX_RECORD_TYPE;

/** The envelope of an outbox record, or a reason it cannot be published. */
function readOutboxRecord(record: DynamoDBRecord): SequencedEvent | { readonly invalid: string } {
  try {
    const item = unmarshall(record.dynamodb!.NewImage as Record<string, AttributeValue>);
    return { sequenceNumber: record.dynamodb!.SequenceNumber!, envelope: validate(outboxEnvelope, item.envelope, 'outbox envelope') as SequencedEvent['envelope'] };
  } catch (error) {
    return { invalid: (error as Error).message };
  }
}

/**
 * The outbox publisher: DynamoDB stream (filtered to inserted outbox records) → every sink.
 * Records are taken in stream order up to the first one that cannot be published; the
 * earliest failure is reported, and Lambda retries the stream from that sequence number
 * (later records of the batch may be sent again: consumers dedupe on eventId). After the
 * retries, bisection isolates a poison record and the on-failure destination receives it.
 */
export const handler = streamHandler(logger, async (event) => {
  const records: SequencedEvent[] = [];
  let firstFailure: string | undefined;
  for (const record of event.Records) {
    if (!isOutboxInsert(record)) {
      // The event filter already excludes these; a filter edited by hand must not publish state items.
      logger.debug('Skipped a stream record that is not a new outbox record', { eventName: record.eventName });
      continue;
    }
    const read = readOutboxRecord(record);
    if ('invalid' in read) {
      firstFailure = record.dynamodb?.SequenceNumber;
      logger.error('Outbox record cannot be published', { sequenceNumber: firstFailure, reason: read.invalid });
      break;
    }
    records.push(read);
  }
  const report = await publishToSinks(records, { sinks });
  for (const f of report.failed) {
    const correlationId = records.find((r) => r.sequenceNumber === f.sequenceNumber)?.envelope.correlationId;
    logger.error('Event not published after retries', { ...f, correlationId });
  }
  logger.info('Outbox batch published', { published: report.published, failed: report.failed.length + (firstFailure ? 1 : 0) });
  const earliest = report.failed[0]?.sequenceNumber ?? firstFailure;
  return { batchItemFailures: earliest ? [{ itemIdentifier: earliest }] : [] };
});
