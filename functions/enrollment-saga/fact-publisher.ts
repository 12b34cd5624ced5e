import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { TableServices } from './saga-types';
import type { EventEnvelope } from '../shared/envelope';

/** Puts one saga fact on the bus, or throws: the consumer's record then fails and is retried. */
export interface FactPublisher {
  publish(event: EventEnvelope<unknown>): Promise<void>;
}

/**
 * Facts from the consumers outside the state machine, one `PutEvents` entry per fact: a
 * refused fact is the only one sent again, so facts keep their order and none is repeated
 * because another was refused.
 */
export function eventBridgePublisher(client: EventBridgeClient, eventBusName: string): FactPublisher {
  return {
    async publish(event) {
      const { FailedEntryCount, Entries } = await client.send(new PutEventsCommand({
        Entries: [{ EventBusName: eventBusName, Source: event.source, DetailType: event.eventType, Detail: JSON.stringify(event) }],
      }));
      const [entry] = Entries ?? [];
      if (FailedEntryCount || !entry?.EventId) {
        throw new Error(`The bus refused ${event.eventType} ${event.eventId}: ${entry?.ErrorCode ?? 'no entry result'} ${entry?.ErrorMessage ?? ''}`.trim());
      }
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
