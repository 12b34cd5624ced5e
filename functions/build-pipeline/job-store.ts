/**
 * The build job store: plain functions over one DynamoDB table (BUILD_JOBS_TABLE_SCHEMA).
 * Every status change is a conditional write, so a status never goes backwards, a duplicate
 * or late message changes nothing, and `building` is held by a lease (owner + expiry).
 * Each transition says whether it changed the job, so the caller emits one event per change.
 */
import { createHash, randomUUID } from 'node:crypto';
import { GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  BUILD_JOBS_TABLE_SCHEMA as S, BuildEvents, BuildJobErrors, BuildJobFailureReason, BuildJobStatus,
  DEFAULT_BUILD_JOB_SETTINGS, HANDLER_SETTING_PATTERN, RUNTIME_HANDLER_RULES,
  type BuildArtifact, type BuildEventType, type BuildImage, type BuildJobFailureReasonCode, type BuildJobSettings, type BuildJobStatusValue,
} from '../../lib/build-pipeline/contract';
import { isConditionFailure } from '../shared/dynamodb-conditions';
import { HttpError, ValidationError } from '../shared/errors';

export interface JobStoreServices {
  readonly db: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly now: () => Date;
  readonly settings?: Partial<BuildJobSettings>;
}

export interface CreateJobInput {
  readonly functionName: string;
  readonly runtime: string;
  readonly handler?: string;
  readonly webhookUrl?: string;
  readonly idempotencyKey?: string;
  /** The create request's correlation id: kept on the job, so every event of the job carries it. */
  readonly correlationId?: string;
}

export type { BuildArtifact } from '../../lib/build-pipeline/contract';

export interface BuildJob {
  readonly jobId: string;
  readonly functionName: string;
  readonly runtime: string;
  readonly handler: string;
  readonly webhookUrl?: string;
  readonly status: BuildJobStatusValue;
  readonly correlationId?: string;
  /** Bumped by every change: (jobId, version) names one change, e.g. for an event id. */
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly uploadExpiresAt: string;
  readonly queuedAt?: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  /** How many times a worker took the lease (1 normally; more after a takeover). */
  readonly attempts?: number;
  readonly leaseOwner?: string;
  readonly leaseExpiresAt?: string;
  readonly artifact?: BuildArtifact;
  /** A container build's image (`{repositoryUri}:{jobId}`). */
  readonly image?: BuildImage;
  /** The CodeBuild build a container job was handed to. */
  readonly containerBuildId?: string;
  /** Set when the webhook receiver answered 410: no more deliveries for this job. */
  readonly webhookDisabled?: boolean;
  readonly failureReason?: BuildJobFailureReasonCode;
  readonly failureMessage?: string;
}

/** Same Idempotency-Key with another body. The API answers 422 (IETF idempotency-key draft); 409 is kept for "in progress", which a transactional create never is. */
export class IdempotencyKeyReusedError extends HttpError {
  override readonly name: string = 'IdempotencyKeyReusedError';
  constructor() {
    super(422, BuildJobErrors.IDEMPOTENCY_KEY_REUSED, 'This Idempotency-Key was used with a different request body');
  }
}

/**
 * What a transition did. `changed`: the write happened, emit `event` (if any). Otherwise nothing
 * was written: `duplicate` (already done, e.g. a redelivery), `stale` (the job is past this step),
 * `not_ready` (the job is not there yet), `lease_held` (another worker's valid lease),
 * `not_owner` (the caller does not hold the lease), `not_found`.
 */
export type TransitionResult =
  | { readonly outcome: 'changed'; readonly job: BuildJob; readonly from: BuildJobStatusValue; readonly event?: BuildEventType; readonly takeover?: boolean }
  | { readonly outcome: 'duplicate' | 'stale' | 'not_ready' | 'lease_held' | 'not_owner'; readonly job: BuildJob }
  | { readonly outcome: 'not_found' };

const ORDER: readonly BuildJobStatusValue[] = [
  BuildJobStatus.AWAITING_UPLOAD, BuildJobStatus.QUEUED, BuildJobStatus.BUILDING, BuildJobStatus.COMPLETED,
];
const rank = (s: BuildJobStatusValue) => (s === BuildJobStatus.FAILED ? ORDER.length : ORDER.indexOf(s));

const FUNCTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_KEY_LENGTH = 255;

const jobKey = (jobId: string) => ({ [S.partitionKey]: `JOB#${jobId}`, [S.sortKey]: 'JOB' });
const idempotencyItemKey = (key: string) => ({
  [S.partitionKey]: `IDEMPOTENCY#${createHash('sha256').update(key).digest('hex')}`, [S.sortKey]: 'KEY',
});
const functionPk = (functionName: string) => `FUNCTION#${functionName}`;
const settingsOf = (services: JobStoreServices): BuildJobSettings => ({ ...DEFAULT_BUILD_JOB_SETTINGS, ...services.settings });
const iso = (d: Date) => d.toISOString();
const plus = (d: Date, seconds: number) => new Date(d.getTime() + seconds * 1000);
const epochSeconds = (d: Date) => Math.floor(d.getTime() / 1000);

const AW = S.awaitingUploadIndex;
const INTERNAL = new Set<string>([
  S.partitionKey, S.sortKey, S.functionIndex.partitionKey, S.functionIndex.sortKey, AW.partitionKey, AW.sortKey, S.timeToLiveAttribute, 'requestHash',
]);
/** The one partition of AwaitingUploadIndex: small (jobs leave it within the upload window), read by the sweep only. */
export const AWAITING_UPLOAD_PARTITION = 'AWAITING';
function toJob(item: Record<string, unknown>): BuildJob {
  return Object.fromEntries(Object.entries(item).filter(([k]) => !INTERNAL.has(k))) as unknown as BuildJob;
}

function validate(input: CreateJobInput): Required<Pick<CreateJobInput, 'functionName' | 'runtime' | 'handler'>> & { webhookUrl?: string } {
  if (typeof input.functionName !== 'string' || !FUNCTION_NAME.test(input.functionName)) {
    throw new ValidationError('functionName: 1-64 letters, digits, - or _');
  }
  const rule = RUNTIME_HANDLER_RULES[input.runtime];
  if (typeof input.runtime !== 'string' || !rule || !Object.prototype.hasOwnProperty.call(RUNTIME_HANDLER_RULES, input.runtime)) {
    throw new ValidationError(`runtime: one of ${Object.keys(RUNTIME_HANDLER_RULES).join(', ')}`);
  }
  const handler = input.handler ?? rule.defaultHandler;
  if (typeof handler !== 'string' || (!rule.fixedFile && !HANDLER_SETTING_PATTERN.test(handler))) {
    throw new ValidationError('handler: <module path>.<function>');
  }
  if (input.webhookUrl !== undefined) {
    let url: URL | undefined;
    try { url = new URL(input.webhookUrl); } catch { url = undefined; }
    // Only the shape here; the SSRF guard checks the connected address at delivery.
    if (!url || url.protocol !== 'https:' || input.webhookUrl.length > 2048) throw new ValidationError('webhookUrl: an https URL');
  }
  return { functionName: input.functionName, runtime: input.runtime, handler, webhookUrl: input.webhookUrl };
}

export async function getJob(jobId: string, services: JobStoreServices): Promise<BuildJob | undefined> {
  const { Item } = await services.db.send(new GetCommand({ TableName: services.tableName, Key: jobKey(jobId), ConsistentRead: true }));
  return Item ? toJob(Item) : undefined;
}

export interface CreateJobResult {
  readonly job: BuildJob;
  /** false when an Idempotency-Key replayed an earlier create (the API answers the same 202). */
  readonly created: boolean;
}

/**
 * Creates a job `awaiting_upload`. With an Idempotency-Key the key item and the job are written
 * in one transaction (key item `attribute_not_exists`), so concurrent creates with one key make
 * one job; the others read the key item and return that job, or throw IdempotencyKeyReusedError
 * when the body differs.
 */
export async function createJob(input: CreateJobInput, services: JobStoreServices): Promise<CreateJobResult> {
  const body = validate(input);
  const settings = settingsOf(services);
  const now = services.now();
  const jobId = randomUUID();
  const createdAt = iso(now);
  const job: BuildJob = {
    jobId,
    functionName: body.functionName,
    runtime: body.runtime,
    handler: body.handler,
    ...(body.webhookUrl ? { webhookUrl: body.webhookUrl } : {}),
    status: BuildJobStatus.AWAITING_UPLOAD,
    ...(input.correlationId ? { correlationId: input.correlationId.slice(0, 128) } : {}),
    version: 1,
    createdAt,
    updatedAt: createdAt,
    uploadExpiresAt: iso(plus(now, settings.uploadWindowSeconds)),
  };
  const jobItem = {
    ...jobKey(jobId),
    ...job,
    [S.functionIndex.partitionKey]: functionPk(job.functionName),
    [S.functionIndex.sortKey]: `${createdAt}#${jobId}`,
    // Sparse: removed by the first transition out of awaiting_upload, so the sweep reads only waiting jobs.
    [AW.partitionKey]: AWAITING_UPLOAD_PARTITION,
    [AW.sortKey]: `${job.uploadExpiresAt}#${jobId}`,
    [S.timeToLiveAttribute]: epochSeconds(plus(now, settings.jobRetentionSeconds)),
  };
  const putJob = { Put: { TableName: services.tableName, Item: jobItem, ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': S.partitionKey } } };

  if (input.idempotencyKey === undefined) {
    await services.db.send(new TransactWriteCommand({ TransactItems: [putJob] }));
    return { job, created: true };
  }
  const key = input.idempotencyKey;
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw new ValidationError(`Idempotency-Key: 1-${MAX_KEY_LENGTH} characters`);
  }
  const requestHash = createHash('sha256')
    .update(JSON.stringify([body.functionName, body.runtime, body.handler, body.webhookUrl ?? null]))
    .digest('hex');
  const keyItem = {
    ...idempotencyItemKey(key),
    jobId,
    requestHash,
    createdAt,
    [S.timeToLiveAttribute]: epochSeconds(plus(now, settings.idempotencyKeySeconds)),
  };
  for (let attempt = 0; ; attempt++) {
    try {
      await services.db.send(new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: services.tableName,
              Item: keyItem,
              // A key item past its TTL (deletion lags up to ~48 h) no longer replays: the key is free again.
              ConditionExpression: 'attribute_not_exists(#pk) OR #ttl <= :now',
              ExpressionAttributeNames: { '#pk': S.partitionKey, '#ttl': S.timeToLiveAttribute },
              ExpressionAttributeValues: { ':now': epochSeconds(now) },
            },
          },
          putJob,
        ],
      }));
      return { job, created: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const { Item } = await services.db.send(new GetCommand({ TableName: services.tableName, Key: idempotencyItemKey(key), ConsistentRead: true }));
      if (Item && (Item[S.timeToLiveAttribute] as number) > epochSeconds(now)) {
        if (Item.requestHash !== requestHash) throw new IdempotencyKeyReusedError();
        const existing = await getJob(Item.jobId as string, services);
        if (existing) return { job: existing, created: false };
      }
      // A transaction conflict with a concurrent create of the same key: that one commits soon.
      if (attempt >= 8) throw error;
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 10 * 2 ** attempt));
    }
  }
}

type Condition = { expression: string; names?: Record<string, string>; values?: Record<string, unknown> };

/** One conditional update; on a refused condition, reads the job so the caller can classify. */
async function conditionalUpdate(
  jobId: string,
  services: JobStoreServices,
  set: Record<string, unknown>,
  remove: readonly string[],
  condition: Condition,
  extra: { add?: Record<string, number>; setIfAbsent?: Record<string, unknown> } = {},
): Promise<{ ok: true; after: BuildJob } | { ok: false; current?: BuildJob }> {
  const names: Record<string, string> = { '#pk': S.partitionKey, '#version': 'version', ...condition.names };
  const values: Record<string, unknown> = { ':one': 1, ...condition.values };
  const sets = ['#version = #version + :one'];
  Object.entries(set).forEach(([k, v], i) => {
    names[`#s${i}`] = k;
    values[`:s${i}`] = v;
    sets.push(`#s${i} = :s${i}`);
  });
  Object.entries(extra.add ?? {}).forEach(([k, v], i) => {
    names[`#a${i}`] = k;
    values[`:a${i}`] = v;
    values[':zero'] = 0;
    sets.push(`#a${i} = if_not_exists(#a${i}, :zero) + :a${i}`);
  });
  Object.entries(extra.setIfAbsent ?? {}).forEach(([k, v], i) => {
    names[`#i${i}`] = k;
    values[`:i${i}`] = v;
    sets.push(`#i${i} = if_not_exists(#i${i}, :i${i})`);
  });
  const removes = remove.map((k, i) => { names[`#r${i}`] = k; return `#r${i}`; });
  try {
    const { Attributes } = await services.db.send(new UpdateCommand({
      TableName: services.tableName,
      Key: jobKey(jobId),
      UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
      ConditionExpression: `attribute_exists(#pk) AND (${condition.expression})`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ReturnValues: 'ALL_NEW',
    }));
    return { ok: true, after: toJob(Attributes!) };
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    return { ok: false, current: await getJob(jobId, services) };
  }
}

const statusIs = (status: BuildJobStatusValue): Condition => ({ expression: '#status = :expected', names: { '#status': 'status' }, values: { ':expected': status } });

/** `awaiting_upload → queued` (the upload arrived). A repeat is `duplicate`; after queued it is `stale`. */
export async function markQueued(jobId: string, services: JobStoreServices): Promise<TransitionResult> {
  const now = iso(services.now());
  const set = { status: BuildJobStatus.QUEUED, queuedAt: now, updatedAt: now };
  const r = await conditionalUpdate(jobId, services, set, [AW.partitionKey, AW.sortKey], statusIs(BuildJobStatus.AWAITING_UPLOAD));
  if (r.ok) return { outcome: 'changed', job: r.after, from: BuildJobStatus.AWAITING_UPLOAD, event: BuildEvents.QUEUED };
  if (!r.current) return { outcome: 'not_found' };
  return { outcome: r.current.status === BuildJobStatus.QUEUED ? 'duplicate' : 'stale', job: r.current };
}

/**
 * `queued → building` under a lease for `owner` (e.g. the worker's request id + message id).
 * Also takes over a `building` job whose lease expired (a crashed worker): `takeover: true`,
 * no event (BuildStarted was emitted once). A valid lease of another owner: `lease_held`;
 * the same owner again: `duplicate`; a finished job: `duplicate` (a redelivery never rebuilds).
 */
export async function startBuild(jobId: string, owner: string, services: JobStoreServices): Promise<TransitionResult> {
  const now = services.now();
  const leaseExpiresAt = iso(plus(now, settingsOf(services).leaseSeconds));
  const r = await conditionalUpdate(
    jobId, services,
    { status: BuildJobStatus.BUILDING, leaseOwner: owner, leaseExpiresAt, updatedAt: iso(now) },
    [],
    {
      expression: '#status = :queued OR (#status = :building AND #lease <= :now)',
      names: { '#status': 'status', '#lease': 'leaseExpiresAt' },
      values: { ':queued': BuildJobStatus.QUEUED, ':building': BuildJobStatus.BUILDING, ':now': iso(now) },
    },
    // startedAt is the first start's; a takeover keeps it.
    { add: { attempts: 1 }, setIfAbsent: { startedAt: iso(now) } },
  );
  if (r.ok) {
    const job = r.after;
    const takeover = (job.attempts ?? 1) > 1;
    return takeover
      ? { outcome: 'changed', job, from: BuildJobStatus.BUILDING, takeover: true }
      : { outcome: 'changed', job, from: BuildJobStatus.QUEUED, event: BuildEvents.STARTED };
  }
  if (!r.current) return { outcome: 'not_found' };
  const c = r.current;
  if (c.status === BuildJobStatus.AWAITING_UPLOAD) return { outcome: 'not_ready', job: c };
  if (c.status === BuildJobStatus.BUILDING) return { outcome: c.leaseOwner === owner ? 'duplicate' : 'lease_held', job: c };
  return { outcome: 'duplicate', job: c };
}

async function finish(
  jobId: string,
  owner: string,
  services: JobStoreServices,
  to: typeof BuildJobStatus.COMPLETED | typeof BuildJobStatus.FAILED,
  fields: Record<string, unknown>,
): Promise<TransitionResult> {
  const now = iso(services.now());
  const r = await conditionalUpdate(
    jobId, services,
    { status: to, finishedAt: now, updatedAt: now, ...fields },
    ['leaseOwner', 'leaseExpiresAt'],
    {
      expression: '#status = :building AND #owner = :owner',
      names: { '#status': 'status', '#owner': 'leaseOwner' },
      values: { ':building': BuildJobStatus.BUILDING, ':owner': owner },
    },
  );
  if (r.ok) return { outcome: 'changed', job: r.after, from: BuildJobStatus.BUILDING, event: to === BuildJobStatus.COMPLETED ? BuildEvents.COMPLETED : BuildEvents.FAILED };
  if (!r.current) return { outcome: 'not_found' };
  const c = r.current;
  if (c.status === to) return { outcome: 'duplicate', job: c };
  if (rank(c.status) >= rank(BuildJobStatus.COMPLETED)) return { outcome: 'stale', job: c };
  return { outcome: 'not_owner', job: c };
}

/**
 * Passes a `building` job's lease from `owner` (the worker) to `newOwner` (e.g.
 * `codebuild:{buildId}`) for `leaseSeconds`, recording `fields` (e.g. the CodeBuild build id).
 * No event: the job stays `building`. `changed` once; the same hand-off again is `duplicate`.
 */
export async function handOffLease(
  jobId: string, owner: string, newOwner: string, leaseSeconds: number, fields: Record<string, unknown>, services: JobStoreServices,
): Promise<TransitionResult> {
  const now = services.now();
  const r = await conditionalUpdate(
    jobId, services,
    { leaseOwner: newOwner, leaseExpiresAt: iso(plus(now, leaseSeconds)), updatedAt: iso(now), ...fields },
    [],
    {
      expression: '#status = :building AND #owner = :owner',
      names: { '#status': 'status', '#owner': 'leaseOwner' },
      values: { ':building': BuildJobStatus.BUILDING, ':owner': owner },
    },
  );
  if (r.ok) return { outcome: 'changed', job: r.after, from: BuildJobStatus.BUILDING };
  if (!r.current) return { outcome: 'not_found' };
  const c = r.current;
  if (c.status === BuildJobStatus.BUILDING && c.leaseOwner === newOwner) return { outcome: 'duplicate', job: c };
  if (rank(c.status) >= rank(BuildJobStatus.COMPLETED)) return { outcome: 'stale', job: c };
  return { outcome: 'not_owner', job: c };
}

/** `building → completed`, only by the lease owner (even after its lease ran out, unless another worker took over). */
export function completeBuild(
  jobId: string, owner: string, artifact: BuildArtifact, services: JobStoreServices, image?: BuildJob['image'],
): Promise<TransitionResult> {
  return finish(jobId, owner, services, BuildJobStatus.COMPLETED, { artifact, ...(image ? { image } : {}) });
}

/** `building → failed`, only by the lease owner. */
export function failBuild(
  jobId: string, owner: string, failure: { reason: BuildJobFailureReasonCode; message: string }, services: JobStoreServices,
): Promise<TransitionResult> {
  return finish(jobId, owner, services, BuildJobStatus.FAILED, { failureReason: failure.reason, failureMessage: failure.message.slice(0, 1024) });
}

/** `awaiting_upload → failed (UPLOAD_EXPIRED)` once `uploadExpiresAt` has passed; any other state: `stale`/`not_ready`, untouched. */
export async function expireUpload(jobId: string, services: JobStoreServices, now: Date = services.now()): Promise<TransitionResult> {
  const at = iso(now);
  const r = await conditionalUpdate(
    jobId, services,
    {
      status: BuildJobStatus.FAILED,
      finishedAt: at,
      updatedAt: at,
      failureReason: BuildJobFailureReason.UPLOAD_EXPIRED,
      failureMessage: 'No upload arrived before the upload URL expired; create a new build',
    },
    [AW.partitionKey, AW.sortKey],
    {
      expression: '#status = :awaiting AND #expires <= :now',
      names: { '#status': 'status', '#expires': 'uploadExpiresAt' },
      values: { ':awaiting': BuildJobStatus.AWAITING_UPLOAD, ':now': at },
    },
  );
  if (r.ok) return { outcome: 'changed', job: r.after, from: BuildJobStatus.AWAITING_UPLOAD, event: BuildEvents.FAILED };
  if (!r.current) return { outcome: 'not_found' };
  const c = r.current;
  if (c.status === BuildJobStatus.AWAITING_UPLOAD) return { outcome: 'not_ready', job: c };
  if (c.status === BuildJobStatus.FAILED && c.failureReason === BuildJobFailureReason.UPLOAD_EXPIRED) return { outcome: 'duplicate', job: c };
  return { outcome: 'stale', job: c };
}

export interface ListJobsResult {
  readonly jobs: BuildJob[];
  readonly nextToken?: string;
}

/**
 * A function's builds, newest first. `nextToken` is the index's LastEvaluatedKey, base64url JSON,
 * checked to name this function. Not signed yet: ProductApi signs its tokens with an HMAC; this should too.
 */
export async function listJobs(
  functionName: string, options: { limit?: number; nextToken?: string }, services: JobStoreServices,
): Promise<ListJobsResult> {
  if (!FUNCTION_NAME.test(functionName)) throw new ValidationError('functionName: 1-64 letters, digits, - or _');
  const limit = options.limit ?? 20;
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new ValidationError('limit: an integer from 1 to 100');
  const { Items, LastEvaluatedKey } = await services.db.send(new QueryCommand({
    TableName: services.tableName,
    IndexName: S.functionIndex.indexName,
    KeyConditionExpression: '#pk = :pk',
    ExpressionAttributeNames: { '#pk': S.functionIndex.partitionKey },
    ExpressionAttributeValues: { ':pk': functionPk(functionName) },
    ScanIndexForward: false,
    Limit: limit,
    ...(options.nextToken ? { ExclusiveStartKey: decodeToken(options.nextToken, functionName) } : {}),
  }));
  return {
    jobs: (Items ?? []).map(toJob),
    ...(LastEvaluatedKey ? { nextToken: Buffer.from(JSON.stringify(LastEvaluatedKey)).toString('base64url') } : {}),
  };
}

const TOKEN_KEYS = [S.partitionKey, S.sortKey, S.functionIndex.partitionKey, S.functionIndex.sortKey].sort();
function decodeToken(token: string, functionName: string): Record<string, string> {
  let key: unknown;
  try { key = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')); } catch { key = undefined; }
  const ok = !!key && typeof key === 'object' && !Array.isArray(key)
    && JSON.stringify(Object.keys(key).sort()) === JSON.stringify(TOKEN_KEYS)
    && Object.values(key).every((v) => typeof v === 'string')
    && (key as Record<string, string>)[S.functionIndex.partitionKey] === functionPk(functionName);
  if (!ok) throw new ValidationError('nextToken: not a token of this listing');
  return key as Record<string, string>;
}
