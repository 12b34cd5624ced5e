import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { buildEventOf, type BuildEventEnvelope } from './publish-build-events-logic';
import { BUILD_EVENT_PUBLISHED_LOG_MESSAGE, BuildPipelineHandlers } from '../../lib/build-pipeline/contract';
import { eventBridgeClient } from '../shared/clients/eventbridge';
import { readConfig } from '../shared/config';
import { EventBridgeSink } from '../shared/eventbridge-sink';
import { streamHandler } from '../shared/invocation-handler';
import { createLogger } from '../shared/logger';
import { publishToSinks, type SequencedEvent } from '../shared/publish-to-sinks';

const contract = BuildPipelineHandlers.publishEvents;
const config = readConfig(contract.environment);
const logger = createLogger(contract.serviceName);
const sink = new EventBridgeSink(eventBridgeClient, config.EVENT_BUS_NAME);

// aws-lambda's and the SDK's AttributeValue types differ only in name.
const image = (i: unknown) => (i ? unmarshall(i as Record<string, AttributeValue>) : undefined);

/**
 * The jobs table's stream (NEW_AND_OLD_IMAGES) → one event per status change, to the bus.
 * Records are taken in stream order up to the first one that cannot be turned into an event;
 * the earliest failure is reported, so Lambda retries from that sequence number (later records
 * of the batch may go out again) and, after its retries, bisects to the poison record and hands
 * it to the on-failure destination. Receivers may therefore see an event more than once:
 * they dedupe on `eventId`, which is derived from (jobId, status) and never changes.
 */
export const handler = streamHandler(logger, async (event) => {
  const pending: SequencedEvent<BuildEventEnvelope['payload']>[] = [];
  let firstFailure: string | undefined;
  for (const record of event.Records) {
    const sequenceNumber = record.dynamodb?.SequenceNumber ?? '';
    try {
      const envelope = buildEventOf({
        eventName: record.eventName,
        oldImage: image(record.dynamodb?.OldImage),
        newImage: image(record.dynamodb?.NewImage),
      });
      if (envelope) pending.push({ sequenceNumber, envelope });
    } catch (error) {
      firstFailure = sequenceNumber;
      logger.error('Job stream record cannot be published', { sequenceNumber, reason: (error as Error).message });
      break; // nothing after it may jump ahead of it
    }
  }
  const report = await publishToSinks(pending, { sinks: [sink] });
  const refused = new Set(report.failed.map((f) => f.eventId));
  for (const { envelope } of pending) {
    if (refused.has(envelope.eventId)) continue;
    // One line per published event, top-level `eventType`: the construct's BuildsCompleted and
    // BuildsFailed metric filters count these (a re-processed record is counted again).
    const { eventId, eventType, correlationId, payload } = envelope;
    logger.info(BUILD_EVENT_PUBLISHED_LOG_MESSAGE, { eventType, eventId, correlationId, jobId: payload.jobId, status: payload.status });
  }
  for (const f of report.failed) {
    const correlationId = pending.find((p) => p.sequenceNumber === f.sequenceNumber)?.envelope.correlationId;
    logger.error('Build event not published after retries', { ...f, correlationId });
  }
  logger.info('Build events published', { records: event.Records.length, published: report.published, failed: report.failed.length + (firstFailure ? 1 : 0) });
  const earliest = report.failed[0]?.sequenceNumber ?? firstFailure;
  return { batchItemFailures: earliest ? [{ itemIdentifier: earliest }] : [] };
});
