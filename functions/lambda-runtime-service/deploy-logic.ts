/**
 * The deploy path of LambdaRuntimeService: a BuildCompleted envelope becomes a published Lambda
 * version behind the `live` alias. No handler here: the consumer of the deploy queue calls
 * {@link deployBuild} with its clients.
 *
 * Order of a deploy (the protocol of registry-store's recordDeployment):
 * 1. validate the envelope; a container build is refused (not deployable yet), logged, dropped;
 * 2. read the registry entry (registering an unknown name from the build), planDeployment: a
 *    duplicate, stale or deleted build stops here, before any Lambda call;
 * 3. CreateFunction, or UpdateFunctionCode (+ UpdateFunctionConfiguration when the registry's
 *    configuration differs), each chained on the RevisionId the previous call returned, then
 *    PublishVersion with that RevisionId and the artifact's CodeSha256. A concurrent deploy of the
 *    same function changes the revision, so ours is refused (412) rather than publishing its code
 *    under our build id; we start over from step 2 (where a newer build makes ours stale);
 * 4. recordDeployment (atomic: newest build wins, idempotent on the build id);
 * 5. only on `deployed`, move `live` (all at once, or a canary weight); then re-read the registry:
 *    if another deploy recorded a newer build meanwhile, point `live` at it, so whatever the
 *    interleaving the alias ends on the registry's current deployment.
 */
import {
  CreateAliasCommand, CreateFunctionCommand, GetAliasCommand, GetFunctionConfigurationCommand, PublishVersionCommand, UpdateAliasCommand,
  UpdateFunctionCodeCommand, UpdateFunctionConfigurationCommand, type AliasConfiguration, type FunctionConfiguration, type LambdaClient,
} from '@aws-sdk/client-lambda';
import {
  ensureRegisteredForBuild, FunctionNotFoundError, getFunction, planDeployment, recordDeployment, rollbackDeployment, type RegistryServices,
} from './registry-store';
import {
  awsFunctionName, CONSUMED_BUILD_EVENT, LIVE_ALIAS, type FunctionDeployment, type FunctionRecord,
} from '../../lib/lambda-runtime-service/contract';
import { HttpError } from '../shared/errors';

/** What the deploy path logs through (Powertools' Logger fits). */
export interface DeployLog {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
}

/** How `live` moves to a new version. */
export type DeployStrategy =
  | { readonly type: 'all-at-once' }
  /** `weight` (0 < w < 1) of the traffic on the new version; the rest stays on the previous one until promoteCanary. */
  | { readonly type: 'canary'; readonly weight: number };

export interface DeployServices {
  readonly registry: RegistryServices;
  readonly lambda: LambdaClient;
  /** The platform prefix of AWS function names. */
  readonly prefix: string;
  /** The one execution role of platform functions (the deploy role may pass only this one). */
  readonly executionRoleArn: string;
  /** Tags on every platform function (the platform tag the IAM conditions and the bill key on). */
  readonly tags: Readonly<Record<string, string>>;
  /** Per function; all at once when absent. */
  readonly strategy?: (record: FunctionRecord) => DeployStrategy;
  readonly log?: DeployLog;
  /** Budget of waiting for a function update to finish: polls × delay. @default 30 × 1000 ms */
  readonly wait?: { readonly attempts: number; readonly delayMs: number };
  /** Starts over after a concurrent deploy changed the function under us, at most this many times. @default 8 */
  readonly maxConflictRetries?: number;
}

export type DeployOutcome =
  /** The build is live (or live as a canary). */
  | { readonly outcome: 'deployed'; readonly name: string; readonly lambdaVersion: string; readonly strategy: DeployStrategy['type'] }
  /** Nothing done: this build was already deployed (a redelivery), a newer one is, or the function is deleted. */
  | { readonly outcome: 'duplicate' | 'stale' | 'deleted'; readonly name: string }
  /** Not deployable: the reason is logged, the event dropped (a retry would fail the same way). */
  | { readonly outcome: 'refused'; readonly reason: string };

interface ValidBuild {
  readonly jobId: string;
  readonly functionName: string;
  readonly runtime: string;
  readonly handler: string;
  readonly createdAt: string;
  readonly artifact: { readonly bucket: string; readonly key: string; readonly sha256: string };
}

const DEFAULT_WAIT = { attempts: 30, delayMs: 1000 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const errorName = (error: unknown) => (error as { name?: string })?.name;

/**
 * The artifact's SHA-256 as Lambda reports CodeSha256: BuildPipeline stores the hex of the
 * deployment ZIP's digest, Lambda the base64 of the same digest.
 */
export const hexToCodeSha256 = (hex: string): string => Buffer.from(hex, 'hex').toString('base64');

/** Why the envelope is not a deployable BuildCompleted, or the build. */
export function validateBuildEvent(event: unknown): { build: ValidBuild } | { reason: string } {
  if (!isObject(event)) return { reason: 'not an event envelope' };
  if (event.source !== CONSUMED_BUILD_EVENT.source) return { reason: `source '${String(event.source)}' is not ${CONSUMED_BUILD_EVENT.source}` };
  if (event.eventType !== CONSUMED_BUILD_EVENT.detailType) return { reason: `eventType '${String(event.eventType)}' is not ${CONSUMED_BUILD_EVENT.detailType}` };
  const p = event.payload;
  if (!isObject(p)) return { reason: 'payload: missing' };
  for (const field of ['jobId', 'functionName', 'runtime', 'handler', 'createdAt'] as const) {
    if (!nonEmpty(p[field])) return { reason: `payload.${field}: missing` };
  }
  // A container build has an image and no ZIP: the platform deploys ZIP packages only (for now).
  if (p.image !== undefined) return { reason: 'a container build (image) is not deployable: only ZIP builds are' };
  const a = p.artifact;
  if (!isObject(a) || !nonEmpty(a.bucket) || !nonEmpty(a.key) || typeof a.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(a.sha256)) {
    return { reason: 'payload.artifact: { bucket, key, sha256 (64 hex) } expected' };
  }
  return {
    build: {
      jobId: p.jobId as string,
      functionName: p.functionName as string,
      runtime: p.runtime as string,
      handler: p.handler as string,
      createdAt: p.createdAt as string,
      artifact: { bucket: a.bucket, key: a.key, sha256: a.sha256 },
    },
  };
}

/** The Lambda configuration the registry asks for (what CreateFunction sets and an update compares). */
function desiredConfig(record: FunctionRecord, services: DeployServices) {
  return {
    Role: services.executionRoleArn,
    Runtime: record.runtime,
    Handler: record.handler,
    MemorySize: record.memoryMb,
    Timeout: record.timeoutSeconds,
    Environment: { Variables: { ...record.environment } },
  } as const;
}

function configDiffers(current: FunctionConfiguration, desired: ReturnType<typeof desiredConfig>): boolean {
  const sorted = (v: Record<string, string> | undefined) => JSON.stringify(Object.entries(v ?? {}).sort());
  return current.Role !== desired.Role || current.Runtime !== desired.Runtime || current.Handler !== desired.Handler
    || current.MemorySize !== desired.MemorySize || current.Timeout !== desired.Timeout
    || sorted(current.Environment?.Variables) !== sorted(desired.Environment.Variables);
}

/** A concurrent change of the function (revision, code hash, an update in progress): start over. */
function isConcurrentChange(error: unknown): boolean {
  const name = errorName(error);
  if (name === 'PreconditionFailedException' || name === 'ResourceConflictException') return true;
  return name === 'InvalidParameterValueException' && /CodeSHA256/i.test(String((error as Error).message));
}

/**
 * Waits until the function's last update finished (State Active, LastUpdateStatus Successful).
 * Lambda applies code and configuration asynchronously, and refuses the next update or a
 * PublishVersion while one is InProgress. Returns the settled configuration (its RevisionId).
 */
async function settled(name: string, config: FunctionConfiguration, services: DeployServices): Promise<FunctionConfiguration> {
  const { attempts, delayMs } = services.wait ?? DEFAULT_WAIT;
  let current = config;
  for (let i = 0; ; i++) {
    if (current.State === 'Failed' || current.LastUpdateStatus === 'Failed') {
      throw new Error(`${name}: update failed: ${current.LastUpdateStatusReason ?? current.StateReason ?? 'no reason given'}`);
    }
    const pending = current.State === 'Pending' || current.LastUpdateStatus === 'InProgress';
    if (!pending) return current;
    if (i >= attempts) throw new Error(`${name}: still updating after ${attempts} polls`);
    await sleep(delayMs);
    current = await services.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
  }
}

/** Creates or updates `$LATEST` to the build's code and the registry's configuration, publishes it; the version. */
async function publish(record: FunctionRecord, build: ValidBuild, services: DeployServices): Promise<string> {
  const name = awsFunctionName(services.prefix, record.name);
  const desired = desiredConfig(record, services);
  const codeSha256 = hexToCodeSha256(build.artifact.sha256);
  let current: FunctionConfiguration | undefined;
  try {
    current = await services.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
  } catch (error) {
    if (errorName(error) !== 'ResourceNotFoundException') throw error;
  }
  let latest: FunctionConfiguration;
  if (!current) {
    // Publish false: the version is published below, checked against the artifact's hash like an update's.
    // A concurrent first deploy makes this a ResourceConflictException: the caller starts over and updates.
    latest = await services.lambda.send(new CreateFunctionCommand({
      FunctionName: name,
      ...desired,
      Code: { S3Bucket: build.artifact.bucket, S3Key: build.artifact.key },
      PackageType: 'Zip',
      Tags: { ...services.tags },
      Publish: false,
    }));
  } else {
    current = await settled(name, current, services);
    latest = await services.lambda.send(new UpdateFunctionCodeCommand({
      FunctionName: name, S3Bucket: build.artifact.bucket, S3Key: build.artifact.key, RevisionId: current.RevisionId, Publish: false,
    }));
    if (configDiffers(current, desired)) {
      latest = await settled(name, latest, services);
      latest = await services.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, ...desired, RevisionId: latest.RevisionId }));
    }
  }
  // What S3 handed Lambda must be the ZIP the build recorded; else the artifact changed under its key.
  if (latest.CodeSha256 !== codeSha256) {
    throw new Error(`${name}: Lambda stored code ${latest.CodeSha256}, the build's artifact is ${codeSha256}: refusing to publish`);
  }
  latest = await settled(name, latest, services);
  const version = await services.lambda.send(new PublishVersionCommand({
    FunctionName: name, CodeSha256: codeSha256, RevisionId: latest.RevisionId, Description: `build ${build.jobId}`,
  }));
  return version.Version!;
}

/** Sets `live` to `version` with `weights` (a canary), creating it when it does not exist yet. */
async function setAlias(
  name: string, version: string, weights: Record<string, number>, services: DeployServices, options: { create?: boolean; revisionId?: string } = {},
): Promise<void> {
  const RoutingConfig = { AdditionalVersionWeights: weights };
  const create = () => services.lambda.send(new CreateAliasCommand({
    FunctionName: name, Name: LIVE_ALIAS, FunctionVersion: version, RoutingConfig,
  }));
  const update = () => services.lambda.send(new UpdateAliasCommand({
    FunctionName: name, Name: LIVE_ALIAS, FunctionVersion: version, RoutingConfig, RevisionId: options.revisionId,
  }));
  if (options.create) {
    try {
      await create();
      return;
    } catch (error) {
      // A concurrent first deploy created it: update it instead.
      if (errorName(error) !== 'ResourceConflictException') throw error;
    }
  }
  try {
    await update();
  } catch (error) {
    if (errorName(error) !== 'ResourceNotFoundException' || options.revisionId) throw error;
    await create();
  }
}

async function getAlias(name: string, services: DeployServices): Promise<AliasConfiguration | undefined> {
  try {
    return await services.lambda.send(new GetAliasCommand({ FunctionName: name, Name: LIVE_ALIAS }));
  } catch (error) {
    if (errorName(error) === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

/**
 * Makes `live` serve the registry's current deployment when it serves neither it nor a canary of
 * it: after a concurrent deploy moved the alias behind a newer one's back, or after a crash between
 * recordDeployment and the alias move (a redelivery then finds a duplicate and repairs the alias).
 * The update is conditional on the alias revision read, so it never overwrites a newer move.
 */
async function converge(recordName: string, services: DeployServices): Promise<void> {
  const name = awsFunctionName(services.prefix, recordName);
  for (let attempt = 0; attempt < 5; attempt++) {
    const record = await getFunction(recordName, services.registry);
    const current = record?.currentDeployment;
    if (!current) return;
    const alias = await getAlias(name, services);
    const weighted = Object.keys(alias?.RoutingConfig?.AdditionalVersionWeights ?? {});
    if (alias && (alias.FunctionVersion === current.lambdaVersion || weighted.includes(current.lambdaVersion))) return;
    try {
      await setAlias(name, current.lambdaVersion, {}, services, alias ? { revisionId: alias.RevisionId } : { create: true });
      services.log?.info('live alias moved to the registry\'s current deployment', { function: recordName, lambdaVersion: current.lambdaVersion });
    } catch (error) {
      if (errorName(error) !== 'PreconditionFailedException' && errorName(error) !== 'ResourceConflictException') throw error;
    }
  }
}

/** Reads the entry the build deploys to; registers an unknown name (so an upload alone makes a function). */
async function resolveRecord(build: ValidBuild, services: DeployServices): Promise<FunctionRecord | undefined> {
  const existing = await getFunction(build.functionName, services.registry, { includeDeleted: true });
  // A deleted name stays deleted for builds made before a new registration: planDeployment says 'deleted'.
  // Once purged, a build made after the deletion registers the name again (its uploader wants it back).
  const reusable = existing?.deletedAt && existing.purgedAt && build.createdAt > existing.deletedAt;
  if (existing && !reusable) return existing;
  return (await ensureRegisteredForBuild(build, services.registry)).record;
}

/**
 * Deploys a BuildCompleted envelope (see the module comment). Lambda and DynamoDB failures other
 * than a refused build throw: the queue redelivers, and the build-id idempotency makes that safe.
 */
export async function deployBuild(event: unknown, services: DeployServices): Promise<DeployOutcome> {
  const checked = validateBuildEvent(event);
  if ('reason' in checked) {
    services.log?.warn('BuildCompleted refused', { reason: checked.reason });
    return { outcome: 'refused', reason: checked.reason };
  }
  const { build } = checked;
  const buildRef = { buildId: build.jobId, buildCreatedAt: build.createdAt };
  const maxRetries = services.maxConflictRetries ?? 8;
  for (let attempt = 0; ; attempt++) {
    let record: FunctionRecord | undefined;
    try {
      record = await resolveRecord(build, services);
    } catch (error) {
      // The registry refuses the name (400) or it is still being purged (409): no retry changes that.
      if (!(error instanceof HttpError) || error.statusCode >= 500) throw error;
      services.log?.warn('BuildCompleted refused by the registry', { buildId: build.jobId, functionName: build.functionName, reason: error.message });
      return { outcome: 'refused', reason: error.message };
    }
    const plan = planDeployment(record, buildRef);
    if (plan === 'not_found' || plan === 'deleted') return { outcome: 'deleted', name: build.functionName };
    if (plan === 'duplicate') {
      await converge(record!.name, services);
      return { outcome: 'duplicate', name: record!.name };
    }
    if (plan === 'stale') return { outcome: 'stale', name: record!.name };

    let lambdaVersion: string;
    try {
      lambdaVersion = await publish(record!, build, services);
    } catch (error) {
      if (!isConcurrentChange(error) || attempt >= maxRetries) throw error;
      services.log?.info('function changed by a concurrent deploy, starting over', { buildId: build.jobId, attempt, error: errorName(error) });
      await sleep(50 + Math.floor(Math.random() * 100 * (attempt + 1)));
      continue;
    }
    return finish(record!, build, lambdaVersion, services);
  }
}

async function finish(record: FunctionRecord, build: ValidBuild, lambdaVersion: string, services: DeployServices): Promise<DeployOutcome> {
  const name = awsFunctionName(services.prefix, record.name);
  const recorded = await recordDeployment(record.name, {
    buildId: build.jobId, buildCreatedAt: build.createdAt, lambdaVersion, codeSha256: hexToCodeSha256(build.artifact.sha256),
  }, services.registry);
  if (recorded.outcome === 'not_found' || recorded.outcome === 'deleted') return { outcome: 'deleted', name: record.name };
  if (recorded.outcome !== 'deployed') {
    // A newer build won the race (our version stays published, unused) or this one was recorded already.
    await converge(record.name, services);
    return { outcome: recorded.outcome, name: record.name };
  }
  const previous: FunctionDeployment | undefined = recorded.record.previousDeployment;
  const strategy = services.strategy?.(recorded.record) ?? { type: 'all-at-once' };
  // A canary needs something to stay on: the first deployment (or a redeploy of the same version) goes all at once.
  const canary = strategy.type === 'canary' && previous && previous.lambdaVersion !== lambdaVersion;
  if (canary) {
    await setAlias(name, previous.lambdaVersion, { [lambdaVersion]: strategy.weight }, services, { create: true });
  } else {
    await setAlias(name, lambdaVersion, {}, services, { create: !previous });
  }
  services.log?.info('build deployed', { function: record.name, buildId: build.jobId, lambdaVersion, strategy: canary ? 'canary' : 'all-at-once' });
  // The re-read of the protocol: a newer build recorded while we moved the alias wins it back.
  const after = await getFunction(record.name, services.registry);
  if (after?.currentDeployment && after.currentDeployment.lambdaVersion !== lambdaVersion) await converge(record.name, services);
  return { outcome: 'deployed', name: record.name, lambdaVersion, strategy: canary ? 'canary' : 'all-at-once' };
}

/** Moves all of `live`'s traffic to the registry's current deployment (ends a canary). */
export async function promoteCanary(recordName: string, services: DeployServices): Promise<string> {
  const record = await getFunction(recordName, services.registry);
  if (!record?.currentDeployment) throw new FunctionNotFoundError(recordName);
  const version = record.currentDeployment.lambdaVersion;
  await setAlias(awsFunctionName(services.prefix, recordName), version, {}, services);
  return version;
}

/**
 * Ends a canary by sending all traffic back to the previous version: the registry's current
 * deployment becomes the previous one first (conditional on the canary's version, so a retry or a
 * newer deploy is not undone), then the alias follows it.
 */
export async function rollbackCanary(recordName: string, services: DeployServices): Promise<string> {
  const record = await getFunction(recordName, services.registry);
  if (!record?.currentDeployment) throw new FunctionNotFoundError(recordName);
  const rolled = await rollbackDeployment(recordName, services.registry, { fromLambdaVersion: record.currentDeployment.lambdaVersion });
  const version = rolled.currentDeployment!.lambdaVersion;
  await setAlias(awsFunctionName(services.prefix, recordName), version, {}, services);
  return version;
}
