/**
 * The registry table's stream → AWS follows the registry. A record only says "this function
 * changed": for each function named in a batch the current META item is read (consistent read)
 * and AWS is reconciled to it, never to the record's image. So a replayed, duplicated or
 * out-of-order record converges to the same state, and a batch holding ten changes of one
 * function costs one reconcile.
 *
 * - a live function: its schedules made exactly the record's (schedule-sync);
 * - deleted, not yet purged: schedules, AWS function and rate bucket removed, then `purgedAt` (function-purge);
 * - a purged tombstone, or no item at all: only a check that no schedule is left.
 */
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { purgeFunction, type PurgeResult } from './function-purge';
import { getFunction, type RegistryServices } from './registry-store';
import { removeSchedules, syncSchedules, type ScheduleSyncResult, type ScheduleSyncServices } from './schedule-sync';
import { FUNCTION_NAME_PATTERN, RegistryLayout as L, REGISTRY_TABLE_SCHEMA as S } from '../../lib/lambda-runtime-service/contract';

export interface SyncLog {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export interface SyncServices {
  readonly registry: RegistryServices;
  readonly schedules: ScheduleSyncServices;
  readonly lambda: LambdaClient;
  readonly prefix: string;
  readonly log?: SyncLog;
  /** Functions reconciled at once within a batch. @default 4 */
  readonly concurrency?: number;
}

export type SyncOutcome =
  | ({ readonly action: 'synced' } & ScheduleSyncResult)
  | ({ readonly action: 'purged' } & PurgeResult)
  | { readonly action: 'absent' | 'tombstone'; readonly schedulesDeleted: string[] };

/** Reconciles AWS to the function's current META item. Throws when an AWS or DynamoDB call fails (the record is retried). */
export async function reconcileFunction(name: string, services: SyncServices): Promise<SyncOutcome> {
  const record = await getFunction(name, services.registry, { includeDeleted: true });
  if (!record || record.purgedAt) {
    // Nothing should exist; a schedule left by a crash or a hand edit would only fail into the DLQ.
    return { action: record ? 'tombstone' : 'absent', schedulesDeleted: await removeSchedules(name, services.schedules) };
  }
  if (record.deletedAt) return { action: 'purged', ...(await purgeFunction(name, services)) };
  return { action: 'synced', ...(await syncSchedules(record, services.schedules)) };
}

/** A stream record as the logic needs it: its sequence number and its keys, unmarshalled. */
export interface RegistryChange {
  readonly sequenceNumber: string;
  readonly keys: Record<string, unknown>;
}

/** The function a META record is about, or undefined (another item kind, or a key the registry never writes). */
export function functionNameOf(keys: Record<string, unknown>): string | undefined {
  if (keys[S.sortKey] !== L.META_SK) return undefined;
  const pk = keys[S.partitionKey];
  const prefix = L.functionPk('');
  if (typeof pk !== 'string' || !pk.startsWith(prefix)) return undefined;
  const name = pk.slice(prefix.length);
  return FUNCTION_NAME_PATTERN.test(name) ? name : undefined;
}

export interface BatchResult {
  /** The sequence number of each failed function's first record in the batch, in stream order. */
  readonly failedSequenceNumbers: string[];
  readonly outcomes: ReadonlyMap<string, SyncOutcome>;
}

/**
 * Reconciles every function named in the batch, each once, a few at a time. A function that
 * fails reports its first record of the batch: Lambda retries the stream from the earliest one
 * reported, and the functions that succeeded are reconciled again then, which changes nothing.
 */
export async function syncBatch(changes: readonly RegistryChange[], services: SyncServices): Promise<BatchResult> {
  const firstRecord = new Map<string, string>();
  for (const change of changes) {
    const name = functionNameOf(change.keys);
    if (name === undefined) {
      // The construct filters the stream to META items: this is a hand-made item no platform resource belongs to.
      services.log?.warn('Registry stream record skipped: not a function META item', { sequenceNumber: change.sequenceNumber, keys: change.keys });
      continue;
    }
    if (!firstRecord.has(name)) firstRecord.set(name, change.sequenceNumber);
  }
  const names = [...firstRecord.keys()];
  const outcomes = new Map<string, SyncOutcome>();
  const failed = new Set<string>();
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const name = names[next++];
      try {
        const outcome = await reconcileFunction(name, services);
        outcomes.set(name, outcome);
        services.log?.info('Function reconciled', { function: name, ...outcome });
      } catch (error) {
        failed.add(name);
        services.log?.error('Function not reconciled, its record is retried', {
          function: name, sequenceNumber: firstRecord.get(name), error: (error as Error)?.name, reason: (error as Error)?.message,
        });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(services.concurrency ?? 4, names.length)) }, worker));
  const failedSequenceNumbers = changes.map((c) => c.sequenceNumber)
    .filter((sequenceNumber) => [...failed].some((name) => firstRecord.get(name) === sequenceNumber));
  return { failedSequenceNumbers, outcomes };
}
