import { PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { sessionKey, TOPUP_ACTIVE } from './enrollment-items';
import type { SagaServices, TableServices } from './saga-types';
import { isConditionFailure } from '../shared/dynamodb-conditions';

export interface Session {
  readonly index: number;
  readonly date: string;
  readonly time: string;
}

/** Session k of an allocation: `intervalDays` apart from the start date, at the plan's time. */
export function sessionAt(startDate: string, index: number, services: SagaServices): Session {
  const date = new Date(Date.parse(`${startDate}T00:00:00Z`) + index * services.plan.intervalDays * 86_400_000).toISOString().slice(0, 10);
  return { index, date, time: services.plan.time };
}

/** The sessions stored for an allocation, in index order. */
export async function sessionsOf(services: TableServices, allocationId: string): Promise<Array<Record<string, any>>> {
  const items: Array<Record<string, any>> = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await services.db.send(new QueryCommand({
      TableName: services.tableName,
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :session)',
      ExpressionAttributeValues: { ':pk': `ALLOCATION#${allocationId}`, ':session': 'SESSION#' },
      ConsistentRead: true,
      ExclusiveStartKey: startKey,
    }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items.sort((a, b) => a.index - b.index);
}

/**
 * Creates the given sessions unless they exist (conditional puts on the unique
 * (allocation, date, time) key); returns how many were new.
 */
export async function createSessions(services: SagaServices, allocationId: string, sessions: Session[]): Promise<number> {
  let created = 0;
  for (const s of sessions) {
    try {
      await services.db.send(new PutCommand({
        TableName: services.tableName,
        Item: { ...sessionKey(allocationId, s.date, s.time), recordType: 'SESSION', allocationId, ...s, status: 'SCHEDULED' },
        ConditionExpression: 'attribute_not_exists(PK)',
      }));
      created++;
    } catch (error) {
      if (!isConditionFailure(error)) throw error; // already there: a re-run or a concurrent top-up
    }
  }
  return created;
}

/** Once every session of the total exists, the allocation leaves the top-up index. */
export async function markFullyScheduled(services: SagaServices, allocationId: string): Promise<void> {
  try {
    await services.db.send(new UpdateCommand({
      TableName: services.tableName,
      Key: { PK: `ALLOCATION#${allocationId}`, SK: 'ALLOCATION' },
      UpdateExpression: 'SET fullyScheduled = :yes REMOVE TOPUP_PK, TOPUP_SK',
      ConditionExpression: 'TOPUP_PK = :active',
      ExpressionAttributeValues: { ':yes': true, ':active': TOPUP_ACTIVE },
    }));
  } catch (error) {
    if (!isConditionFailure(error)) throw error; // already out of the index (or released)
  }
}
