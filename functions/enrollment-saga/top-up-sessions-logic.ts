import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { TOPUP_ACTIVE } from './enrollment-items';
import type { SagaServices } from './saga-types';
import { createSessions, markFullyScheduled, sessionAt, sessionsOf } from './session-window';
import { ENROLLMENT_TABLE_SCHEMA } from '../../lib/enrollment-saga/contract';

const TOPUP_INDEX = ENROLLMENT_TABLE_SCHEMA.topUpIndex.indexName;

/**
 * The daily top-up: each allocation still in the top-up index gets new sessions (the next
 * slots from today on) until it has `window` upcoming ones, never more than its total. Safe to
 * run twice: the second run finds the window full and the keys taken.
 */
export async function topUpSessions(services: SagaServices): Promise<{ allocations: number; created: number }> {
  const today = services.now().toISOString().slice(0, 10);
  let allocations = 0;
  let created = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await services.db.send(new QueryCommand({
      TableName: services.tableName,
      IndexName: TOPUP_INDEX,
      KeyConditionExpression: 'TOPUP_PK = :active',
      ExpressionAttributeValues: { ':active': TOPUP_ACTIVE },
      ExclusiveStartKey: startKey,
    }));
    for (const allocation of page.Items ?? []) {
      if (allocation.status !== 'ACTIVE') continue;
      allocations++;
      const existing = await sessionsOf(services, allocation.allocationId);
      const upcoming = existing.filter((s) => s.status === 'SCHEDULED' && s.date >= today).length;
      // Never in the past: after days without a top-up, the slots that went by are skipped.
      const todayIndex = Math.ceil((Date.parse(today) - Date.parse(allocation.startDate)) / (services.plan.intervalDays * 86_400_000));
      const next = Math.max(existing.length === 0 ? 0 : existing[existing.length - 1].index + 1, todayIndex);
      const count = Math.max(0, Math.min(services.plan.window - upcoming, allocation.totalSessions - existing.length));
      const sessions = Array.from({ length: count }, (_, i) => sessionAt(allocation.startDate, next + i, services));
      created += await createSessions(services, allocation.allocationId, sessions);
      if (existing.length + count >= allocation.totalSessions) await markFullyScheduled(services, allocation.allocationId);
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return { allocations, created };
}
