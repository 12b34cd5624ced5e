/**
 * The invocation audit: one item per invocation in the audit table (AUDIT_TABLE_SCHEMA), keyed by
 * the invocation id (one GetItem for `GET /v1.0/invocations/{id}`), indexed per function by start
 * time (a Query for a time range), deleted by TTL after `auditRetentionSeconds`.
 *
 * A synchronous invocation is recorded once, finished (`recordInvocation`). An asynchronous one is
 * recorded `pending` when accepted (`recordInvocation` with status pending), then finished once by
 * `completeInvocation` (conditional on `pending`: a redelivered result changes nothing).
 */
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  AUDIT_FIELD_LIMITS, AUDIT_TABLE_SCHEMA as S, AuditLayout as L, DEFAULT_RUNTIME_SETTINGS, FUNCTION_NAME_PATTERN,
  INVOCATION_ID_PATTERN, InvocationStatus, type InvocationStatusValue, type RuntimeSettings,
} from '../../lib/lambda-runtime-service/contract';
import { isConditionFailure } from '../shared/dynamodb-conditions';
import { ValidationError } from '../shared/errors';

export interface AuditServices {
  readonly db: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly settings?: Partial<RuntimeSettings>;
}

export interface InvocationRecord {
  readonly invocationId: string;
  readonly functionName: string;
  /** The Lambda version that ran (or the alias's at the call, for a throttled call). */
  readonly version?: string;
  readonly mode: 'sync' | 'async';
  readonly startedAt: string;
  readonly durationMs?: number;
  readonly status: InvocationStatusValue;
  readonly errorType?: string;
  readonly errorMessage?: string;
  readonly correlationId?: string;
  readonly finishedAt?: string;
  /** Async: Lambda's request id of the Invoke (what its destination records name). */
  readonly requestId?: string;
  /** Async: where the result is POSTed (validated https URL). */
  readonly callbackUrl?: string;
  /** Async with a callback: where its delivery stands ({@link CallbackState}). */
  readonly callbackState?: CallbackState;
  readonly callbackAttempts?: number;
  /** The last callback attempt's outcome (`HTTP 503`, the guard's refusal...), bounded. */
  readonly callbackDetail?: string;
}

/**
 * A callback's delivery: `retrying` until one of the final states. `delivered` is never sent again;
 * `rejected` (a 4xx other than 408/429, or a 3xx), `blocked` (SSRF guard) and `exhausted` are final too.
 */
export type CallbackState = 'retrying' | 'delivered' | 'rejected' | 'blocked' | 'exhausted';
export const FINAL_CALLBACK_STATES: ReadonlySet<CallbackState> = new Set(['delivered', 'rejected', 'blocked', 'exhausted']);

export type InvocationOutcome = Pick<InvocationRecord, 'status' | 'durationMs' | 'errorType' | 'errorMessage' | 'version' | 'finishedAt'>;

const STATUSES = Object.values(InvocationStatus) as readonly string[];
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const INTERNAL = new Set<string>([S.partitionKey, S.functionIndex.partitionKey, S.functionIndex.sortKey, S.timeToLiveAttribute]);
const toRecord = (item: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(item).filter(([k]) => !INTERNAL.has(k))) as unknown as InvocationRecord;

/** Caller- or function-supplied text, cut to a bound (by code points, never splitting a character). */
const bounded = (text: string | undefined, max: number) => (text === undefined ? undefined : Array.from(text).slice(0, max).join(''));

const retentionOf = (services: AuditServices) => ({ ...DEFAULT_RUNTIME_SETTINGS, ...services.settings }.auditRetentionSeconds);

function checkId(invocationId: unknown): string {
  if (typeof invocationId !== 'string' || !INVOCATION_ID_PATTERN.test(invocationId)) throw new ValidationError('invocationId: 1-64 letters, digits or -');
  return invocationId;
}

function checkOutcome(outcome: InvocationOutcome): Record<string, unknown> {
  if (!STATUSES.includes(outcome.status)) throw new ValidationError(`status: one of ${STATUSES.join(', ')}`);
  if (outcome.durationMs !== undefined && (!Number.isFinite(outcome.durationMs) || outcome.durationMs < 0)) {
    throw new ValidationError('durationMs: a number >= 0');
  }
  const fields: Record<string, unknown> = {
    status: outcome.status,
    durationMs: outcome.durationMs === undefined ? undefined : Math.round(outcome.durationMs),
    errorType: bounded(outcome.errorType, AUDIT_FIELD_LIMITS.errorType),
    errorMessage: bounded(outcome.errorMessage, AUDIT_FIELD_LIMITS.errorMessage),
    version: outcome.version,
    finishedAt: outcome.finishedAt,
  };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

/**
 * Records an invocation (finished, or `pending` for an accepted async call). Idempotent on the id:
 * a second record of one id changes nothing and returns false.
 */
export async function recordInvocation(record: InvocationRecord, services: AuditServices): Promise<boolean> {
  const invocationId = checkId(record.invocationId);
  if (typeof record.functionName !== 'string' || !FUNCTION_NAME_PATTERN.test(record.functionName)) throw new ValidationError('functionName: a registered name');
  if (typeof record.startedAt !== 'string' || !ISO_MS.test(record.startedAt)) throw new ValidationError('startedAt: an ISO 8601 UTC time with milliseconds');
  if (record.mode !== 'sync' && record.mode !== 'async') throw new ValidationError("mode: 'sync' or 'async'");
  const retention = retentionOf(services);
  const item = {
    [S.partitionKey]: L.invocationPk(invocationId),
    [S.functionIndex.partitionKey]: L.functionPk(record.functionName),
    [S.functionIndex.sortKey]: L.functionSortKey(record.startedAt, invocationId),
    [S.timeToLiveAttribute]: Math.floor(Date.parse(record.startedAt) / 1000) + retention,
    invocationId,
    functionName: record.functionName,
    mode: record.mode,
    startedAt: record.startedAt,
    ...(record.correlationId ? { correlationId: bounded(record.correlationId, AUDIT_FIELD_LIMITS.correlationId) } : {}),
    ...checkOutcome(record),
  };
  try {
    await services.db.send(new PutCommand({
      TableName: services.tableName,
      Item: item,
      ConditionExpression: 'attribute_not_exists(#pk)',
      ExpressionAttributeNames: { '#pk': S.partitionKey },
    }));
    return true;
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    return false;
  }
}

/**
 * Finishes a `pending` (async) invocation once. Returns the finished record, or undefined when the
 * id is unknown or already finished (a redelivered result).
 */
export async function completeInvocation(
  invocationId: string, outcome: InvocationOutcome, services: AuditServices,
): Promise<InvocationRecord | undefined> {
  checkId(invocationId);
  if (outcome.status === InvocationStatus.PENDING) throw new ValidationError('status: a finished status');
  const fields = checkOutcome(outcome);
  const names: Record<string, string> = { '#status': 'status' };
  const values: Record<string, unknown> = { ':pending': InvocationStatus.PENDING };
  const sets = Object.entries(fields).map(([k, v], i) => {
    names[`#f${i}`] = k;
    values[`:f${i}`] = v;
    return `#f${i} = :f${i}`;
  });
  try {
    const { Attributes } = await services.db.send(new UpdateCommand({
      TableName: services.tableName,
      Key: { [S.partitionKey]: L.invocationPk(invocationId) },
      UpdateExpression: `SET ${sets.join(', ')}`,
      ConditionExpression: '#status = :pending',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ReturnValues: 'ALL_NEW',
    }));
    return toRecord(Attributes!);
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    return undefined;
  }
}

/**
 * After an async Invoke returned: the pointer `LAMBDA_REQUEST#{requestId}` → `{ invocationId }` and
 * the pending item's `requestId` (and `callbackUrl`), in one transaction, so a completion that finds
 * the pointer always finds an item that names its callback. TTL'd like the audit item. A repeat of
 * the same link is a no-op (false); a request id already pointing elsewhere throws.
 */
export async function linkLambdaRequest(
  link: { invocationId: string; requestId: string; startedAt: string; callbackUrl?: string }, services: AuditServices,
): Promise<boolean> {
  const invocationId = checkId(link.invocationId);
  const requestId = checkId(link.requestId);
  const ttl = Math.floor(Date.parse(link.startedAt) / 1000) + retentionOf(services);
  try {
    await services.db.send(new TransactWriteCommand({
      TransactItems: [
        {
          Put: {
            TableName: services.tableName,
            Item: { [S.partitionKey]: L.requestPk(requestId), invocationId, [S.timeToLiveAttribute]: ttl },
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': S.partitionKey },
          },
        },
        {
          Update: {
            TableName: services.tableName,
            Key: { [S.partitionKey]: L.invocationPk(invocationId) },
            UpdateExpression: link.callbackUrl ? 'SET requestId = :rid, callbackUrl = :url' : 'SET requestId = :rid',
            // The pending item was written before the Invoke: it exists, and no other request claimed it.
            ConditionExpression: 'attribute_exists(#pk) AND attribute_not_exists(requestId)',
            ExpressionAttributeNames: { '#pk': S.partitionKey },
            ExpressionAttributeValues: { ':rid': requestId, ...(link.callbackUrl ? { ':url': link.callbackUrl } : {}) },
          },
        },
      ],
    }));
    return true;
  } catch (error) {
    if ((error as { name?: string }).name !== 'TransactionCanceledException') throw error;
    const pointer = await invocationIdOfRequest(requestId, services);
    if (pointer === invocationId) return false;
    throw error;
  }
}

/** The invocation id an async request id points at, or undefined (not started by the platform, or not linked yet). */
export async function invocationIdOfRequest(requestId: string, services: AuditServices): Promise<string | undefined> {
  checkId(requestId);
  const { Item } = await services.db.send(new GetCommand({
    TableName: services.tableName, Key: { [S.partitionKey]: L.requestPk(requestId) }, ConsistentRead: true,
  }));
  return typeof Item?.invocationId === 'string' ? Item.invocationId : undefined;
}

/**
 * Records where an invocation's callback stands. A `delivered` callback is never changed again
 * (condition), so a late duplicate attempt cannot turn it back into `retrying`.
 */
export async function recordCallback(
  invocationId: string, state: CallbackState, services: AuditServices, detail?: string,
): Promise<boolean> {
  checkId(invocationId);
  try {
    await services.db.send(new UpdateCommand({
      TableName: services.tableName,
      Key: { [S.partitionKey]: L.invocationPk(invocationId) },
      UpdateExpression: `SET callbackState = :state, callbackAttempts = if_not_exists(callbackAttempts, :zero) + :one${detail ? ', callbackDetail = :detail' : ''}`,
      ConditionExpression: 'attribute_exists(#pk) AND (attribute_not_exists(callbackState) OR callbackState <> :delivered)',
      ExpressionAttributeNames: { '#pk': S.partitionKey },
      ExpressionAttributeValues: {
        ':state': state,
        ':zero': 0,
        ':one': 1,
        ':delivered': 'delivered',
        ...(detail ? { ':detail': bounded(detail, AUDIT_FIELD_LIMITS.errorMessage) } : {}),
      },
    }));
    return true;
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    return false;
  }
}

/** One invocation by id (strongly consistent: an async call's status right after it was accepted). */
export async function getInvocation(invocationId: string, services: AuditServices): Promise<InvocationRecord | undefined> {
  checkId(invocationId);
  const { Item } = await services.db.send(new GetCommand({
    TableName: services.tableName, Key: { [S.partitionKey]: L.invocationPk(invocationId) }, ConsistentRead: true,
  }));
  return Item ? toRecord(Item) : undefined;
}

export interface ListInvocationsOptions {
  /** Started at or after (ISO, inclusive). */
  readonly from?: string;
  /** Started before (ISO, exclusive). */
  readonly to?: string;
  readonly limit?: number;
  /** Newest first unless `oldestFirst`. */
  readonly oldestFirst?: boolean;
  readonly nextToken?: string;
}

export interface ListInvocationsResult {
  readonly invocations: InvocationRecord[];
  /** The index's LastEvaluatedKey, base64url JSON; the API signs it (HMAC) before handing it out. */
  readonly nextToken?: string;
}

const TOKEN_KEYS = [S.partitionKey, S.functionIndex.partitionKey, S.functionIndex.sortKey].sort();

/** A function's invocations started in [from, to), newest first, `limit` (1–100) per page. */
export async function listInvocations(
  functionName: string, options: ListInvocationsOptions, services: AuditServices,
): Promise<ListInvocationsResult> {
  if (typeof functionName !== 'string' || !FUNCTION_NAME_PATTERN.test(functionName)) throw new ValidationError('functionName: a registered name');
  for (const [field, value] of [['from', options.from], ['to', options.to]] as const) {
    if (value !== undefined && (typeof value !== 'string' || !ISO_MS.test(value))) throw new ValidationError(`${field}: an ISO 8601 UTC time with milliseconds`);
  }
  const limit = options.limit ?? 20;
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new ValidationError('limit: an integer from 1 to 100');
  // Sort keys are `{startedAt}#{id}`: `from` sorts before every key of its millisecond, `to` before every key of its own.
  const from = options.from ?? '0000';
  const to = options.to ?? '9999';
  if (from >= to) throw new ValidationError('from: before to');
  const pk = L.functionPk(functionName);
  const { Items, LastEvaluatedKey } = await services.db.send(new QueryCommand({
    TableName: services.tableName,
    IndexName: S.functionIndex.indexName,
    KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
    ExpressionAttributeNames: { '#pk': S.functionIndex.partitionKey, '#sk': S.functionIndex.sortKey },
    ExpressionAttributeValues: { ':pk': pk, ':from': from, ':to': to },
    ScanIndexForward: !!options.oldestFirst,
    Limit: limit,
    ...(options.nextToken ? { ExclusiveStartKey: decodeToken(options.nextToken, pk) } : {}),
  }));
  return {
    invocations: (Items ?? []).map(toRecord),
    ...(LastEvaluatedKey ? { nextToken: Buffer.from(JSON.stringify(LastEvaluatedKey)).toString('base64url') } : {}),
  };
}

function decodeToken(token: string, pk: string): Record<string, string> {
  let key: unknown;
  try { key = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')); } catch { key = undefined; }
  const ok = !!key && typeof key === 'object' && !Array.isArray(key)
    && JSON.stringify(Object.keys(key).sort()) === JSON.stringify(TOKEN_KEYS)
    && Object.values(key).every((v) => typeof v === 'string')
    && (key as Record<string, string>)[S.functionIndex.partitionKey] === pk;
  if (!ok) throw new ValidationError('nextToken: not a token of this listing');
  return key as Record<string, string>;
}
