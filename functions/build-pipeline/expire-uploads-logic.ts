/**
 * The upload-expiry sweep: fails jobs whose upload never came. It reads the sparse
 * AwaitingUploadIndex (only `awaiting_upload` jobs carry its keys), oldest expiry first, and
 * leaves every decision to the job store's conditional `expireUpload`: the index is eventually
 * consistent, so a job it still lists may already be queued, and the write then changes nothing.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { AWAITING_UPLOAD_PARTITION, expireUpload, type JobStoreServices, type TransitionResult } from './job-store';
import { BUILD_JOBS_TABLE_SCHEMA as S } from '../../lib/build-pipeline/contract';

/**
 * How long after `uploadExpiresAt` a job is left alone. S3 checks a presigned POST's policy
 * expiry when the request starts, so a large upload started a moment before the expiry lands
 * after it, and its ObjectCreated notification reaches the worker later still. Failing the job
 * at the expiry itself would throw away an accepted upload; five minutes covers a 50 MB upload
 * on a slow link plus the notification's queueing.
 */
export const UPLOAD_EXPIRY_GRACE_SECONDS = 5 * 60;

export interface ExpireOptions {
  /** Most jobs one run expires, so a run fits the function's timeout; the rest wait for the next run. */
  readonly maxJobsPerRun?: number;
  /** Concurrent `expireUpload` writes (each one conditional UpdateItem). */
  readonly concurrency?: number;
  /** Index items per Query page. */
  readonly pageSize?: number;
  /** Stops reading further pages when true (the function's remaining time runs low). */
  readonly shouldStop?: () => boolean;
}

export const DEFAULT_EXPIRE_OPTIONS = { maxJobsPerRun: 1_000, concurrency: 10, pageSize: 100 } as const;

export interface ExpireReport {
  /** Index entries read past the grace. */
  readonly examined: number;
  readonly expired: number;
  /** Entries the store left alone, by outcome (`stale`: an upload arrived meanwhile; `duplicate`: expired already). */
  readonly skipped: Readonly<Record<string, number>>;
  /** True when the run stopped at its cap or deadline with entries possibly left for the next run. */
  readonly more: boolean;
  /** The run's cutoff: jobs whose upload expired before it were examined. */
  readonly cutoff: string;
}

/** Runs `work` over `items`, at most `limit` at a time. */
async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

export async function expireUploads(services: JobStoreServices, options: ExpireOptions = {}): Promise<ExpireReport> {
  const { maxJobsPerRun, concurrency, pageSize } = { ...DEFAULT_EXPIRE_OPTIONS, ...options };
  const now = services.now();
  const cutoff = new Date(now.getTime() - UPLOAD_EXPIRY_GRACE_SECONDS * 1000).toISOString();
  const AW = S.awaitingUploadIndex;
  let examined = 0;
  let expired = 0;
  const skipped: Record<string, number> = {};
  let startKey: Record<string, unknown> | undefined;
  do {
    if (options.shouldStop?.()) break;
    const { Items = [], LastEvaluatedKey } = await services.db.send(new QueryCommand({
      TableName: services.tableName,
      IndexName: AW.indexName,
      // AW_SK = `{uploadExpiresAt}#{jobId}`: ISO times sort as strings, so `< cutoff` is "expired before the cutoff".
      KeyConditionExpression: '#pk = :awaiting AND #sk < :cutoff',
      ExpressionAttributeNames: { '#pk': AW.partitionKey, '#sk': AW.sortKey, '#jobId': 'jobId' },
      ExpressionAttributeValues: { ':awaiting': AWAITING_UPLOAD_PARTITION, ':cutoff': cutoff },
      ProjectionExpression: '#jobId',
      Limit: Math.min(pageSize, maxJobsPerRun - examined),
      ...(startKey ? { ExclusiveStartKey: startKey } : {}),
    }));
    startKey = LastEvaluatedKey;
    examined += Items.length;
    await forEachLimited(Items.map((i) => i.jobId as string), concurrency, async (jobId) => {
      const result: TransitionResult = await expireUpload(jobId, services, now);
      if (result.outcome === 'changed') expired++;
      else skipped[result.outcome] = (skipped[result.outcome] ?? 0) + 1;
    });
  } while (startKey && examined < maxJobsPerRun);
  return { examined, expired, skipped, more: startKey !== undefined, cutoff };
}
