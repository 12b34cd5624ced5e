/**
 * The read side of the builds API: one job, a function's jobs (newest first, signed page
 * tokens) and a job's webhook delivery log. Views are allowlists: lease internals, table keys,
 * the request hash and the webhook URL's path and query (which may carry a token) never leave.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { getJob, listJobs, type BuildJob, type JobStoreServices } from './job-store';
import {
  BUILD_JOBS_TABLE_SCHEMA as S, BuildJobStatus, DeliveryLogLayout, JOB_ID_PATTERN, type DeliveryLogEntry,
} from '../../lib/build-pipeline/contract';
import { BadRequestError, NotFoundError } from '../shared/errors';
import { openPageToken, signPageToken } from '../shared/page-token';
import { validate } from '../shared/validation';

/** The HMAC label of BuildPipeline's page tokens: distinct from every other API's. */
export const BUILD_PAGE_TOKEN_LABEL = 'cdk-event-services/build-pipeline/nextToken/v1\n';

export interface ReadBuildsServices extends JobStoreServices {
  /** The page token HMAC key (the secret's value, cached). */
  readonly pageTokenKey: () => Promise<Uint8Array>;
}

export interface JobView {
  readonly jobId: string;
  readonly functionName: string;
  readonly runtime: string;
  readonly handler: string;
  readonly status: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly queuedAt?: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly uploadExpiresAt?: string;
  readonly attempts?: number;
  readonly artifact?: BuildJob['artifact'];
  readonly image?: BuildJob['image'];
  readonly failureReason?: string;
  readonly failureMessage?: string;
  /** Only the webhook's origin: its path or query may hold the receiver's token. */
  readonly webhookOrigin?: string;
  readonly webhookDisabled?: boolean;
}

const originOf = (url: string) => {
  try { return new URL(url).origin; } catch { return undefined; }
};

export function jobView(job: BuildJob): JobView {
  const pick = <K extends keyof BuildJob>(...keys: K[]) => Object.fromEntries(keys.filter((k) => job[k] !== undefined).map((k) => [k, job[k]]));
  return {
    jobId: job.jobId,
    functionName: job.functionName,
    runtime: job.runtime,
    handler: job.handler,
    status: job.status,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    ...pick('queuedAt', 'startedAt', 'finishedAt', 'attempts', 'failureReason', 'failureMessage', 'webhookDisabled'),
    ...(job.status === BuildJobStatus.AWAITING_UPLOAD ? { uploadExpiresAt: job.uploadExpiresAt } : {}),
    ...(job.artifact ? { artifact: allow(job.artifact, ['bucket', 'key', 'manifestKey', 'sha256', 'size', 'fileCount']) } : {}),
    ...(job.image ? { image: allow(job.image, ['uri', 'digest']) } : {}),
    ...(job.webhookUrl && originOf(job.webhookUrl) ? { webhookOrigin: originOf(job.webhookUrl) } : {}),
  } as JobView;
}

function allow<T extends object>(value: T, keys: ReadonlyArray<keyof T>): T {
  return Object.fromEntries(keys.filter((k) => value[k] !== undefined).map((k) => [k, value[k]])) as T;
}

export function parseJobId(raw: string | undefined): string {
  if (raw === undefined || !JOB_ID_PATTERN.test(raw)) throw new BadRequestError("Invalid path parameter 'jobId': not a job id");
  return raw;
}

export async function readBuild(jobId: string, services: ReadBuildsServices): Promise<JobView> {
  const job = await getJob(jobId, services);
  if (!job) throw new NotFoundError(`No build ${jobId}`);
  return jobView(job);
}

const listQuerySchema = z.strictObject({
  functionName: z.string().check(z.minLength(1), z.maxLength(64)),
  limit: z.optional(z.string().check(z.regex(/^\d{1,3}$/, { message: 'must be an integer from 1 to 100' }))),
  nextToken: z.optional(z.string().check(z.maxLength(4096))),
});

/**
 * A function's builds, newest first. The job store's own token (the index's last key) travels
 * inside an HMAC-signed token bound to the function name, so an edited token, or one from
 * another function's listing, is refused before it reaches DynamoDB.
 */
export async function listBuilds(
  query: Record<string, string | undefined> | null, services: ReadBuildsServices,
): Promise<{ items: JobView[]; nextToken?: string }> {
  const q = validate(listQuerySchema, query ?? {}, 'query parameter');
  const limit = q.limit === undefined ? 20 : Number(q.limit);
  if (limit < 1 || limit > 100) throw new BadRequestError("Invalid query parameter 'limit': must be an integer from 1 to 100");
  const inner = q.nextToken === undefined ? undefined : openToken(await services.pageTokenKey(), q.nextToken, q.functionName);
  const page = await listJobs(q.functionName, { limit, nextToken: inner }, services);
  if (!page.nextToken) return { items: page.jobs.map(jobView) };
  const nextToken = signPageToken(await services.pageTokenKey(), BUILD_PAGE_TOKEN_LABEL, { t: page.nextToken, f: q.functionName });
  return { items: page.jobs.map(jobView), nextToken };
}

function openToken(key: Uint8Array, token: string, functionName: string): string {
  const value = openPageToken(key, BUILD_PAGE_TOKEN_LABEL, token) as { t?: unknown; f?: unknown } | undefined;
  if (!value || typeof value !== 'object' || value.f !== functionName || typeof value.t !== 'string') {
    throw new BadRequestError("Invalid query parameter 'nextToken': not a token this API issued for this function");
  }
  return value.t;
}

/**
 * A job's delivery log in one Query of the job's partition: the sort key range from
 * `DELIVERY#` to `JOB` holds every delivery item and the job item itself ('D' < 'J', and
 * nothing else lives in the partition), so a missing job (404) and its deliveries need no
 * second read.
 */
export async function listDeliveries(jobId: string, services: ReadBuildsServices): Promise<{ items: DeliveryLogEntry[] }> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await services.db.send(new QueryCommand({
      TableName: services.tableName,
      KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :job',
      ExpressionAttributeNames: { '#pk': S.partitionKey, '#sk': S.sortKey },
      ExpressionAttributeValues: { ':pk': `JOB#${jobId}`, ':from': DeliveryLogLayout.sortKeyPrefix, ':job': 'JOB' },
      ConsistentRead: true,
      ...(start ? { ExclusiveStartKey: start } : {}),
    }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  if (!items.some((item) => item[S.sortKey] === 'JOB')) throw new NotFoundError(`No build ${jobId}`);
  const deliveries = items.filter((item) => String(item[S.sortKey]).startsWith(DeliveryLogLayout.sortKeyPrefix));
  return { items: deliveries.map(deliveryView) };
}

function deliveryView(item: Record<string, unknown>): DeliveryLogEntry {
  const attempts = Array.isArray(item.attempts) ? item.attempts as DeliveryLogEntry['attempts'] : [];
  return {
    eventId: String(item.eventId ?? String(item[S.sortKey]).slice(DeliveryLogLayout.sortKeyPrefix.length)),
    eventType: item.eventType as string,
    state: item.state as DeliveryLogEntry['state'],
    attempts: attempts.map((a) => allow(a, ['at', 'statusCode', 'outcome', 'durationMs', 'error'])),
    updatedAt: item.updatedAt as string,
  };
}
