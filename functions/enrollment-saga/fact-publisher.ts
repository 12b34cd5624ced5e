import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { TableServices } from './saga-types';
import type { EventEnvelope } from '../shared/envelope';
import type { EventSink } from '../shared/event-sink';

/** Puts one saga fact on the bus, or throws: the consumer's record then fails and is retried. */
export interface FactPublisher {
  publish(event: EventEnvelope<unknown>): Promise<void>;
}

/**
 * Facts from the consumers outside the state machine, through the kit's sink (the
 * EventBridge sink in production), one fact per call: a refused fact is the only one sent
 * again, so facts keep their order and none is repeated because another was refused.
 */
export function sinkPublisher(sink: EventSink): FactPublisher {
  return {
    async publish(event) {
      const { failed } = await sink.publish([event]);
      if (failed.length > 0) throw new Error(`The bus refused ${event.eventType} ${event.eventId}: ${failed[0].reason}`);
    },
  };
}

/**
 * Publishes `event` unless the record at `key` says it was announced, then marks it
 * announced: a redelivered trigger puts the fact on the bus once. A crash between the two
 * re-sends the identical fact (same `eventId`), which consumers dedupe.
 */
export async function announceOnce(
  services: TableServices, publisher: FactPublisher, key: Record<string, string>, event: EventEnvelope<unknown>,
): Promise<boolean> {
  const { Item } = await services.db.send(new GetCommand({ TableName: services.tableName, Key: key, ConsistentRead: true }));
  if (Item?.announcedEventId === event.eventId) return false;
  await publisher.publish(event);
  await services.db.send(new UpdateCommand({
    TableName: services.tableName,
    Key: key,
    UpdateExpression: 'SET announcedEventId = :id, announcedAt = :now',
    ConditionExpression: 'attribute_exists(PK)',
    ExpressionAttributeValues: { ':id': event.eventId, ':now': services.now().toISOString() },
  }));
  return true;
}
