/**
 * The purge of a deleted function: its schedules, its AWS function (versions and the `live` alias
 * go with it), its rate-limit bucket, then `purgedAt` on the tombstone. `markPurged` comes last:
 * it is what lets the name be registered again, so it must never come before the resources are
 * gone; a crash before it leaves the tombstone unpurged, and the stream's retry runs the purge
 * again (every step is idempotent: what is gone already counts as done).
 */
import { DeleteFunctionCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { deleteRateBucket, markPurged, type RegistryServices } from './registry-store';
import { removeSchedules, type ScheduleSyncServices } from './schedule-sync';
import { awsFunctionName } from '../../lib/lambda-runtime-service/contract';

export interface PurgeServices {
  readonly registry: RegistryServices;
  readonly schedules: ScheduleSyncServices;
  readonly lambda: LambdaClient;
  readonly prefix: string;
}

export interface PurgeResult {
  readonly schedulesDeleted: string[];
  /** False when the AWS function was gone already (never deployed, or an earlier purge got that far). */
  readonly functionDeleted: boolean;
  /** False when the tombstone was purged meanwhile (a concurrent purge finished first). */
  readonly marked: boolean;
}

/** Deletes `{prefix}-{name}` (every version and alias with it); an absent function is fine. */
async function deleteAwsFunction(name: string, services: PurgeServices): Promise<boolean> {
  try {
    await services.lambda.send(new DeleteFunctionCommand({ FunctionName: awsFunctionName(services.prefix, name) }));
    return true;
  } catch (error) {
    if ((error as { name?: string } | undefined)?.name === 'ResourceNotFoundException') return false;
    throw error;
  }
}

export async function purgeFunction(name: string, services: PurgeServices): Promise<PurgeResult> {
  // Schedules first: once the function is gone, a schedule left behind would only fail into the DLQ.
  const schedulesDeleted = await removeSchedules(name, services.schedules);
  const functionDeleted = await deleteAwsFunction(name, services);
  await deleteRateBucket(name, services.registry);
  const marked = await markPurged(name, services.registry);
  return { schedulesDeleted, functionDeleted, marked };
}
