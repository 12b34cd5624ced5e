/**
 * The function registry: plain functions over the registry table (REGISTRY_TABLE_SCHEMA). Every
 * write is conditional, and a refused condition returns the item it was checked against
 * (`ReturnValuesOnConditionCheckFailure: ALL_OLD`), so the caller learns why without a second read.
 *
 * - register: conditional create; 409 while a live function (or a deleted one not yet purged) has the name.
 * - update: optimistic concurrency on `version` (`If-Match`): 412 on a mismatch, 404 when gone.
 * - delete: soft (`deletedAt`, removed from the listing indexes); a later deploy for it changes nothing.
 *   The name may be registered again once the purge (AWS function, alias, schedules) is done
 *   (`markPurged`), so the purge can never delete the new function's resources; the new registration
 *   keeps the tombstone's `deletedAt` as `buildsNotBefore`: builds made before the deletion never deploy
 *   to the new function.
 * - recordDeployment: idempotent on the build id, newest build wins (`latestBuild` only rises).
 */
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { CONFIG_FIELDS, isPlainObject, validateConfig, validateFunctionName, type FunctionConfig } from './function-validation';
import {
  DEFAULT_FUNCTION_LIMITS, DEFAULT_RUNTIME_SETTINGS, LambdaRuntimeErrors, REGISTRY_TABLE_SCHEMA as S, RegistryLayout as L,
  type FunctionDeployment, type FunctionLimits, type FunctionRecord, type RuntimeSettings,
} from '../../lib/lambda-runtime-service/contract';
import { ConfigurationError } from '../shared/config';
import { isConditionFailure } from '../shared/dynamodb-conditions';
import { HttpError, ValidationError } from '../shared/errors';

export interface RegistryServices {
  readonly db: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly now: () => Date;
  readonly limits?: Partial<FunctionLimits>;
  readonly settings?: Partial<RuntimeSettings>;
}

export class FunctionExistsError extends HttpError {
  override readonly name: string = 'FunctionExistsError';
  constructor(name: string) { super(409, LambdaRuntimeErrors.FUNCTION_EXISTS, `A function named '${name}' exists`); }
}
export class FunctionBeingDeletedError extends HttpError {
  override readonly name: string = 'FunctionBeingDeletedError';
  constructor(name: string) {
    super(409, LambdaRuntimeErrors.FUNCTION_BEING_DELETED, `The function '${name}' was deleted and is still being removed; register it again in a few minutes`);
  }
}
export class FunctionNotFoundError extends HttpError {
  override readonly name: string = 'FunctionNotFoundError';
  constructor(name: string) { super(404, LambdaRuntimeErrors.FUNCTION_NOT_FOUND, `No function named '${name}'`); }
}
export class VersionMismatchError extends HttpError {
  override readonly name: string = 'VersionMismatchError';
  constructor(readonly currentVersion: number, expected: number) {
    super(412, LambdaRuntimeErrors.VERSION_MISMATCH, `The function is at version ${currentVersion}, not ${expected}: read it again and retry`);
  }
}
export class NothingToRollBackError extends HttpError {
  override readonly name: string = 'NothingToRollBackError';
  constructor(name: string) { super(409, LambdaRuntimeErrors.NOTHING_TO_ROLL_BACK, `The function '${name}' has no previous deployment to roll back to`); }
}

/**
 * FUNCTION_LIMITS (JSON of every FunctionLimits field), parsed at init: a bad value fails the cold
 * start naming the variable, not a registration later. Numbers >= 0, not only integers: the
 * construct allows `maxSchedules: 0` and a fractional `maxRequestsPerSecond`.
 */
export function readFunctionLimits(value: string, variable = 'FUNCTION_LIMITS'): FunctionLimits {
  let parsed: Record<string, unknown> | undefined;
  try { parsed = JSON.parse(value); } catch { parsed = undefined; }
  const fields = Object.keys(DEFAULT_FUNCTION_LIMITS) as Array<keyof FunctionLimits>;
  const isLimit = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !fields.every((f) => isLimit(parsed![f]))) {
    throw new ConfigurationError(`Environment variable ${variable} must be JSON with numbers >= 0: ${fields.join(', ')}`);
  }
  return Object.fromEntries(fields.map((f) => [f, parsed![f]])) as unknown as FunctionLimits;
}

const limitsOf = (s: RegistryServices): FunctionLimits => ({ ...DEFAULT_FUNCTION_LIMITS, ...s.limits });
const settingsOf = (s: RegistryServices): RuntimeSettings => ({ ...DEFAULT_RUNTIME_SETTINGS, ...s.settings });
const metaKey = (name: string) => ({ [S.partitionKey]: L.functionPk(name), [S.sortKey]: L.META_SK });
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const BUILD_ID = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;

const INTERNAL = new Set<string>([
  S.partitionKey, S.sortKey, S.nameIndex.partitionKey, S.nameIndex.sortKey, S.createdIndex.sortKey, S.timeToLiveAttribute,
]);
/** The record without table keys; a `previousDeployment` of NULL (none yet) is left out. */
export function toRecord(item: Record<string, unknown>): FunctionRecord {
  return Object.fromEntries(Object.entries(item).filter(([k, v]) => !INTERNAL.has(k) && v !== null)) as unknown as FunctionRecord;
}

/** The item a refused condition was checked against (ALL_OLD), or undefined when there was none. */
function refusedItem(error: unknown): Record<string, unknown> | undefined {
  const item = (error as { Item?: Record<string, any> }).Item;
  return item && Object.keys(item).length ? unmarshall(item) : undefined;
}

export async function getFunction(
  name: string, services: RegistryServices, options: { includeDeleted?: boolean } = {},
): Promise<FunctionRecord | undefined> {
  validateFunctionName(name);
  const { Item } = await services.db.send(new GetCommand({ TableName: services.tableName, Key: metaKey(name), ConsistentRead: true }));
  if (!Item || (Item.deletedAt && !options.includeDeleted)) return undefined;
  return toRecord(Item);
}

export interface RegisterInput extends Record<string, unknown> {
  readonly name: string;
}

/**
 * Registers a function (defaults for what the body leaves out). 409 `FUNCTION_EXISTS` when a live
 * function has the name, 409 `FUNCTION_BEING_DELETED` while a deleted one is not purged yet.
 */
export async function registerFunction(input: RegisterInput, services: RegistryServices): Promise<FunctionRecord> {
  if (!isPlainObject(input)) throw new ValidationError('A function: { name, runtime, ... }');
  const { name: rawName, ...fields } = input;
  const name = validateFunctionName(rawName);
  const config = validateConfig(fields, limitsOf(services));
  const at = services.now().toISOString();
  const item = {
    ...metaKey(name),
    name,
    ...config,
    version: 1,
    registeredAt: at,
    updatedAt: at,
    [S.nameIndex.partitionKey]: L.LIST_PARTITION,
    [S.nameIndex.sortKey]: name,
    [S.createdIndex.sortKey]: L.createdSortKey(at, name),
  };
  type Values = Record<string, unknown> | undefined;
  const put = (condition: string, values: Values, extra: Record<string, unknown> = {}) => services.db.send(new PutCommand({
    TableName: services.tableName,
    Item: { ...item, ...extra },
    ConditionExpression: condition,
    ExpressionAttributeNames: condition.includes('#d') ? { '#d': 'deletedAt', '#p': 'purgedAt' } : { '#pk': S.partitionKey },
    ExpressionAttributeValues: values,
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  }));
  try {
    await put('attribute_not_exists(#pk)', undefined);
    return toRecord(item);
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    const old = refusedItem(error);
    if (!old?.deletedAt) throw new FunctionExistsError(name);
    if (!old.purgedAt) throw new FunctionBeingDeletedError(name);
    // A purged tombstone: replace it, unless it changed meanwhile (a concurrent registration won).
    try {
      const carried = { buildsNotBefore: old.deletedAt };
      await put('#d = :d AND #p = :p', { ':d': old.deletedAt, ':p': old.purgedAt }, carried);
      // The record as stored: with the carried-over `buildsNotBefore`.
      return toRecord({ ...item, ...carried });
    } catch (again) {
      if (!isConditionFailure(again)) throw again;
      throw new FunctionExistsError(name);
    }
  }
}

/** Why a conditional write on a live function was refused: gone → 404, else → 412. */
function refusal(name: string, error: unknown, expectedVersion?: number): HttpError {
  const old = refusedItem(error);
  if (!old || old.deletedAt) return new FunctionNotFoundError(name);
  return new VersionMismatchError(old.version as number, expectedVersion ?? (old.version as number));
}

function checkExpectedVersion(expectedVersion: unknown): number {
  if (typeof expectedVersion !== 'number' || !Number.isInteger(expectedVersion) || expectedVersion < 1) {
    throw new ValidationError('If-Match: the version to update (a positive integer)');
  }
  return expectedVersion;
}

/**
 * Changes configuration fields (`patch`: any of runtime, handler, memoryMb, timeoutSeconds,
 * environment, rateLimit, schedules; a field given replaces the stored one) of the function at
 * `expectedVersion`. The merged configuration is validated as a whole; the write is conditional on
 * the version, so of two concurrent updates at one version exactly one wins, the other gets 412.
 */
export async function updateFunction(
  name: string, patch: Record<string, unknown>, expectedVersion: number, services: RegistryServices,
): Promise<FunctionRecord> {
  validateFunctionName(name);
  checkExpectedVersion(expectedVersion);
  if (!isPlainObject(patch)) throw new ValidationError('A patch: an object of the fields to change');
  if ('name' in patch && patch.name !== name) throw new ValidationError('name: a function cannot be renamed');
  const changes: Record<string, unknown> = { ...patch };
  delete changes.name;
  const current = await getFunction(name, services);
  if (!current) throw new FunctionNotFoundError(name);
  if (current.version !== expectedVersion) throw new VersionMismatchError(current.version, expectedVersion);
  const merged: Record<string, unknown> = {};
  for (const field of CONFIG_FIELDS) merged[field] = current[field];
  const config: FunctionConfig = validateConfig({ ...merged, ...changes }, limitsOf(services));

  const names: Record<string, string> = { '#pk': S.partitionKey, '#version': 'version', '#deleted': 'deletedAt', '#updatedAt': 'updatedAt' };
  const values: Record<string, unknown> = { ':expected': expectedVersion, ':one': 1, ':at': services.now().toISOString() };
  const sets = ['#version = #version + :one', '#updatedAt = :at'];
  CONFIG_FIELDS.forEach((field, i) => {
    names[`#f${i}`] = field;
    values[`:f${i}`] = config[field];
    sets.push(`#f${i} = :f${i}`);
  });
  try {
    const { Attributes } = await services.db.send(new UpdateCommand({
      TableName: services.tableName,
      Key: metaKey(name),
      UpdateExpression: `SET ${sets.join(', ')}`,
      ConditionExpression: 'attribute_exists(#pk) AND attribute_not_exists(#deleted) AND #version = :expected',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ReturnValues: 'ALL_NEW',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }));
    return toRecord(Attributes!);
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    throw refusal(name, error, expectedVersion);
  }
}

/**
 * Soft delete: sets `deletedAt`, bumps the version and leaves the listing indexes. With
 * `expectedVersion` it is conditional like an update (412). A second delete is 404.
 */
export async function deleteFunction(
  name: string, services: RegistryServices, options: { expectedVersion?: number } = {},
): Promise<FunctionRecord> {
  validateFunctionName(name);
  const names: Record<string, string> = {
    '#pk': S.partitionKey,
    '#version': 'version',
    '#deleted': 'deletedAt',
    '#updatedAt': 'updatedAt',
    '#lp': S.nameIndex.partitionKey,
    '#ns': S.nameIndex.sortKey,
    '#cs': S.createdIndex.sortKey,
  };
  const at = services.now().toISOString();
  const values: Record<string, unknown> = { ':one': 1, ':at': at };
  let condition = 'attribute_exists(#pk) AND attribute_not_exists(#deleted)';
  if (options.expectedVersion !== undefined) {
    values[':expected'] = checkExpectedVersion(options.expectedVersion);
    condition += ' AND #version = :expected';
  }
  try {
    const { Attributes } = await services.db.send(new UpdateCommand({
      TableName: services.tableName,
      Key: metaKey(name),
      UpdateExpression: 'SET #deleted = :at, #updatedAt = :at, #version = #version + :one REMOVE #lp, #ns, #cs',
      ConditionExpression: condition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ReturnValues: 'ALL_NEW',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }));
    return toRecord(Attributes!);
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    throw refusal(name, error, options.expectedVersion);
  }
}

/**
 * The purge of a deleted function is done (its AWS function, alias and schedules are gone): the name
 * may be registered again, and the tombstone expires after `tombstoneRetentionSeconds` (keep that above
 * the deploy queue's retention, so a late BuildCompleted still finds the tombstone or a newer
 * registration's `buildsNotBefore`). Returns false when the function is not deleted or already purged.
 */
export async function markPurged(name: string, services: RegistryServices): Promise<boolean> {
  validateFunctionName(name);
  const now = services.now();
  try {
    await services.db.send(new UpdateCommand({
      TableName: services.tableName,
      Key: metaKey(name),
      UpdateExpression: 'SET #purged = :at, #ttl = :ttl',
      ConditionExpression: 'attribute_exists(#deleted) AND attribute_not_exists(#purged)',
      ExpressionAttributeNames: { '#purged': 'purgedAt', '#deleted': 'deletedAt', '#ttl': S.timeToLiveAttribute },
      ExpressionAttributeValues: { ':at': now.toISOString(), ':ttl': Math.floor(now.getTime() / 1000) + settingsOf(services).tombstoneRetentionSeconds },
    }));
    return true;
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    return false;
  }
}

/* ---------------------------------------------------------------- deployments */

export interface DeploymentInput {
  readonly buildId: string;
  /** The build job's `createdAt` (BuildCompleted's payload): the order of builds. */
  readonly buildCreatedAt: string;
  /** The Lambda version PublishVersion returned. */
  readonly lambdaVersion: string;
  readonly codeSha256?: string;
}

/**
 * What recordDeployment did. `deployed`: the build is now current (move the alias to it). Otherwise
 * nothing was written: `duplicate` (this build is already the newest recorded: a redelivery),
 * `stale` (a newer build was recorded, or the build predates this registration), `deleted`, `not_found`.
 */
export type DeploymentResult =
  | { readonly outcome: 'deployed'; readonly record: FunctionRecord }
  | { readonly outcome: 'duplicate' | 'stale' | 'deleted'; readonly record: FunctionRecord }
  | { readonly outcome: 'not_found' };

/**
 * Records a published build as the current deployment, the current one becoming previous. One
 * conditional update: the function is live, the build was made for this registration
 * (`buildsNotBefore`), and it is newer than every build recorded before (`latestBuild`, which a
 * rollback does not lower, so a redelivered newer build never undoes a rollback).
 *
 * The deploy handler's protocol (next slice): read the function (skip if absent/deleted or
 * `latestBuild >= this build`), UpdateFunctionCode + PublishVersion, then this; only on `deployed`
 * UpdateAlias to the version, then re-read and, if `currentDeployment` moved meanwhile, set the alias
 * to the registry's current version (so the alias converges on the newest build whatever the
 * interleaving of concurrent deploys).
 */
export async function recordDeployment(name: string, input: DeploymentInput, services: RegistryServices): Promise<DeploymentResult> {
  validateFunctionName(name);
  if (typeof input.buildId !== 'string' || !BUILD_ID.test(input.buildId)) throw new ValidationError('buildId: 1-64 letters, digits or -');
  if (typeof input.buildCreatedAt !== 'string' || !ISO_MS.test(input.buildCreatedAt)) {
    throw new ValidationError('buildCreatedAt: an ISO 8601 UTC time with milliseconds');
  }
  if (typeof input.lambdaVersion !== 'string' || !/^[0-9]{1,10}$/.test(input.lambdaVersion)) throw new ValidationError('lambdaVersion: a published version number');
  const order = L.buildOrder(input.buildCreatedAt, input.buildId);
  const deployment: FunctionDeployment = {
    buildId: input.buildId,
    buildCreatedAt: input.buildCreatedAt,
    lambdaVersion: input.lambdaVersion,
    ...(input.codeSha256 ? { codeSha256: input.codeSha256 } : {}),
    deployedAt: services.now().toISOString(),
  };
  try {
    const { Attributes } = await services.db.send(new UpdateCommand({
      TableName: services.tableName,
      Key: metaKey(name),
      UpdateExpression: 'SET #prev = if_not_exists(#cur, :none), #cur = :dep, #latest = :order',
      ConditionExpression: 'attribute_exists(#pk) AND attribute_not_exists(#deleted)'
        + ' AND (attribute_not_exists(#latest) OR #latest < :order)'
        + ' AND (attribute_not_exists(#notBefore) OR #notBefore < :created)',
      ExpressionAttributeNames: {
        '#pk': S.partitionKey,
        '#deleted': 'deletedAt',
        '#prev': 'previousDeployment',
        '#cur': 'currentDeployment',
        '#latest': 'latestBuild',
        '#notBefore': 'buildsNotBefore',
      },
      ExpressionAttributeValues: { ':none': null, ':dep': deployment, ':order': order, ':created': input.buildCreatedAt },
      ReturnValues: 'ALL_NEW',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }));
    return { outcome: 'deployed', record: toRecord(Attributes!) };
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    const old = refusedItem(error);
    if (!old) return { outcome: 'not_found' };
    const record = toRecord(old);
    if (old.deletedAt) return { outcome: 'deleted', record };
    return { outcome: old.latestBuild === order ? 'duplicate' : 'stale', record };
  }
}

/**
 * The deploy handler's pre-check before any Lambda call (UpdateFunctionCode, PublishVersion): what
 * recordDeployment would answer for this build on this record, read without writing. `deploy`
 * means "publish it, then recordDeployment" (which re-checks atomically: a concurrent newer build may
 * still win, and then the published version just stays unused).
 */
export function planDeployment(
  record: FunctionRecord | undefined, build: Pick<DeploymentInput, 'buildId' | 'buildCreatedAt'>,
): 'deploy' | 'duplicate' | 'stale' | 'deleted' | 'not_found' {
  if (!record) return 'not_found';
  if (record.deletedAt) return 'deleted';
  const order = L.buildOrder(build.buildCreatedAt, build.buildId);
  if (record.latestBuild === order) return 'duplicate';
  const older = record.latestBuild !== undefined && record.latestBuild > order;
  const earlierIncarnation = record.buildsNotBefore !== undefined && record.buildsNotBefore >= build.buildCreatedAt;
  if (older || earlierIncarnation) return 'stale';
  return 'deploy';
}

/**
 * A build for a name nobody registered registers it (runtime and handler from the build, every other
 * field at its default), so an uploaded ZIP becomes a function with no other step. A live function
 * is returned as it is (`created: false`); a name being deleted, or one the registry's rules refuse
 * (BuildPipeline accepts `A-Z _` and 64 characters, the registry does not), throws the registry's
 * 409 / 400: the deploy handler logs it and drops the event.
 */
export async function ensureRegisteredForBuild(
  build: { functionName: string; runtime: string; handler: string }, services: RegistryServices,
): Promise<{ record: FunctionRecord; created: boolean }> {
  const existing = await getFunction(validateFunctionName(build.functionName, 'functionName'), services);
  if (existing) return { record: existing, created: false };
  try {
    return { record: await registerFunction({ name: build.functionName, runtime: build.runtime, handler: build.handler }, services), created: true };
  } catch (error) {
    if (!(error instanceof FunctionExistsError)) throw error;
    const raced = await getFunction(build.functionName, services);
    if (!raced) throw error;
    return { record: raced, created: false };
  }
}

export interface RollbackOptions {
  /** The current Lambda version the caller saw: another one is refused (412). */
  readonly fromLambdaVersion?: string;
  /**
   * Only roll back to an older build: a previous deployment newer than the current one is the one
   * an earlier rollback left (the swap), so there is nothing to roll back to (409). The API's
   * rollback sets it, so a second (or retried) rollback never rolls forward again.
   */
  readonly onlyToOlder?: boolean;
}

/** The build order of a deployment (as `latestBuild` spells it). */
const orderOf = (d: FunctionDeployment) => L.buildOrder(d.buildCreatedAt, d.buildId);

/**
 * Makes the previous deployment current again (and the current one previous). With
 * `fromLambdaVersion` (the current version the caller saw) a retried rollback is refused (412)
 * instead of toggling back; with `onlyToOlder` a previous deployment newer than the current one
 * is refused (409). `latestBuild` stays: an older redelivered build still changes nothing.
 */
export async function rollbackDeployment(
  name: string, services: RegistryServices, options: RollbackOptions = {},
): Promise<FunctionRecord> {
  validateFunctionName(name);
  const values: Record<string, unknown> = { ':map': 'M' };
  let condition = 'attribute_exists(#pk) AND attribute_not_exists(#deleted) AND attribute_type(#prev, :map)';
  if (options.fromLambdaVersion !== undefined) {
    values[':from'] = options.fromLambdaVersion;
    condition += ' AND #cur.#lv = :from';
  }
  if (options.onlyToOlder) {
    // The build order `{createdAt}#{buildId}` compared field by field (both are stored on each deployment).
    condition += ' AND (#prev.#bca < #cur.#bca OR (#prev.#bca = #cur.#bca AND #prev.#bid < #cur.#bid))';
  }
  try {
    const { Attributes } = await services.db.send(new UpdateCommand({
      TableName: services.tableName,
      Key: metaKey(name),
      // Both operands are read from the item before the update: a swap.
      UpdateExpression: 'SET #cur = #prev, #prev = #cur',
      ConditionExpression: condition,
      ExpressionAttributeNames: {
        '#pk': S.partitionKey,
        '#deleted': 'deletedAt',
        '#prev': 'previousDeployment',
        '#cur': 'currentDeployment',
        ...(options.fromLambdaVersion !== undefined ? { '#lv': 'lambdaVersion' } : {}),
        ...(options.onlyToOlder ? { '#bca': 'buildCreatedAt', '#bid': 'buildId' } : {}),
      },
      ExpressionAttributeValues: values,
      ReturnValues: 'ALL_NEW',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }));
    return toRecord(Attributes!);
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    const old = refusedItem(error);
    if (!old || old.deletedAt) throw new FunctionNotFoundError(name);
    const previous = old.previousDeployment as FunctionDeployment | null | undefined;
    if (!previous) throw new NothingToRollBackError(name);
    const current = old.currentDeployment as FunctionDeployment;
    if (options.fromLambdaVersion !== undefined && current.lambdaVersion !== options.fromLambdaVersion) {
      throw new VersionMismatchError(Number(current.lambdaVersion), Number(options.fromLambdaVersion));
    }
    // Only the older-build condition is left to have failed.
    if (options.onlyToOlder && orderOf(previous) >= orderOf(current)) throw new NothingToRollBackError(name);
    throw new VersionMismatchError(Number(current.lambdaVersion), Number(options.fromLambdaVersion));
  }
}

/* ---------------------------------------------------------------- listing */

export type ListOrder = 'name' | 'newest';

export interface ListFunctionsResult {
  readonly functions: FunctionRecord[];
  /** The index's LastEvaluatedKey, base64url JSON. The API signs it (HMAC) before handing it out. */
  readonly nextToken?: string;
}

const indexOf = (order: ListOrder) => (order === 'name' ? S.nameIndex : S.createdIndex);
const tokenKeys = (order: ListOrder) => [S.partitionKey, S.sortKey, S.nameIndex.partitionKey, indexOf(order).sortKey].sort();

/** Live functions, by name (A→Z) or newest registration first, `limit` (1–100) per page. */
export async function listFunctions(
  options: { order?: ListOrder; limit?: number; nextToken?: string }, services: RegistryServices,
): Promise<ListFunctionsResult> {
  const order = options.order ?? 'name';
  if (order !== 'name' && order !== 'newest') throw new ValidationError("order: 'name' or 'newest'");
  const limit = options.limit ?? 20;
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new ValidationError('limit: an integer from 1 to 100');
  const index = indexOf(order);
  const { Items, LastEvaluatedKey } = await services.db.send(new QueryCommand({
    TableName: services.tableName,
    IndexName: index.indexName,
    KeyConditionExpression: '#lp = :lp',
    ExpressionAttributeNames: { '#lp': index.partitionKey },
    ExpressionAttributeValues: { ':lp': L.LIST_PARTITION },
    ScanIndexForward: order === 'name',
    Limit: limit,
    ...(options.nextToken ? { ExclusiveStartKey: decodeListToken(options.nextToken, order) } : {}),
  }));
  return {
    functions: (Items ?? []).map(toRecord),
    ...(LastEvaluatedKey ? { nextToken: Buffer.from(JSON.stringify(LastEvaluatedKey)).toString('base64url') } : {}),
  };
}

function decodeListToken(token: string, order: ListOrder): Record<string, string> {
  let key: unknown;
  try { key = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')); } catch { key = undefined; }
  const ok = isPlainObject(key)
    && JSON.stringify(Object.keys(key).sort()) === JSON.stringify(tokenKeys(order))
    && Object.values(key).every((v) => typeof v === 'string')
    && key[S.nameIndex.partitionKey] === L.LIST_PARTITION;
  if (!ok) throw new ValidationError('nextToken: not a token of this listing');
  return key as Record<string, string>;
}

/** Removes a function's rate-limit bucket (the purge's last step; a new registration starts full). */
export async function deleteRateBucket(name: string, services: RegistryServices): Promise<void> {
  validateFunctionName(name);
  await services.db.send(new DeleteCommand({ TableName: services.tableName, Key: { [S.partitionKey]: L.functionPk(name), [S.sortKey]: L.RATE_SK } }));
}
