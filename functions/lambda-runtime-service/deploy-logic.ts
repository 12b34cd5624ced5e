/**
 * The deploy path of LambdaRuntimeService: a BuildCompleted envelope becomes a published Lambda
 * version behind the `live` alias. No handler here: deploy-builds (the deploy queue's consumer)
 * calls {@link deployBuild} with its clients.
 *
 * Order of a deploy (the protocol of registry-store's recordDeployment):
 * 1. validate the envelope; a container build is refused (not deployable yet), logged, dropped;
 * 2. read the registry entry (registering an unknown name from the build), planDeployment: a
 *    duplicate, stale or deleted build stops here, before any Lambda call;
 * 3. GetFunction (configuration, tags and reserved concurrency in one read), then CreateFunction
 *    (tags, the one execution role), or UpdateFunctionCode (+ UpdateFunctionConfiguration when the
 *    registry's configuration differs, + TagResource when the platform tags are missing), each
 *    chained on the RevisionId the previous call returned, then PublishVersion with that RevisionId
 *    and the artifact's CodeSha256. A concurrent deploy of the same function changes the revision,
 *    so ours is refused (412) rather than publishing its code under our build id; we start over
 *    from step 2 (where a newer build makes ours stale). Then PutFunctionConcurrency when the
 *    reserved concurrency is not the registry's (capped by the limit): before the deployment is
 *    recorded, so a failure there is retried by the redelivery;
 * 4. recordDeployment (atomic: newest build wins, idempotent on the build id);
 * 5. only on `deployed`, move `live` (all at once, or the canary's first weight from the record's
 *    deployment policy); ensure `live`'s async settings (destinations, retries); a canary sends its
 *    first delayed check to the canary queue. Then re-read the registry: if another deploy recorded
 *    a newer build meanwhile, point `live` at it, so whatever the interleaving the alias ends on the
 *    registry's current deployment. A redelivery (duplicate) repeats what step 5 may have missed.
 *
 * Lambda calls per deploy, local Lambda measured by the tests (it settles updates at once; AWS adds
 * a GetFunctionConfiguration poll per update still in progress):
 * - first deploy: GetFunction (404), CreateFunction, PublishVersion, PutFunctionConcurrency,
 *   CreateAlias, GetFunctionEventInvokeConfig (404), PutFunctionEventInvokeConfig = 7;
 * - a later build: GetFunction, UpdateFunctionCode, PublishVersion, UpdateAlias,
 *   GetFunctionEventInvokeConfig = 5 (+1 UpdateFunctionConfiguration, PutFunctionConcurrency or
 *   TagResource each when that setting changed);
 * - a redelivered build: GetAlias, GetFunctionEventInvokeConfig = 2; a stale or deleted one: 0.
 *
 * Why the async settings are on the `live` alias, not on the unqualified function: Lambda applies
 * the EventInvokeConfig of the qualifier invoked, and the platform always invokes `live`; a
 * function-level (`$LATEST`) config would never apply to those invocations.
 */
import {
  CreateAliasCommand, CreateFunctionCommand, DeleteFunctionCommand, GetAliasCommand, GetFunctionCommand, GetFunctionConfigurationCommand,
  GetFunctionEventInvokeConfigCommand, PublishVersionCommand, PutFunctionConcurrencyCommand, PutFunctionEventInvokeConfigCommand,
  TagResourceCommand, UpdateAliasCommand,
  UpdateFunctionCodeCommand, UpdateFunctionConfigurationCommand, type AliasConfiguration, type FunctionConfiguration,
  type GetFunctionEventInvokeConfigCommandOutput, type LambdaClient,
} from '@aws-sdk/client-lambda';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import {
  ensureRegisteredForBuild, FunctionNotFoundError, getFunction, planDeployment, recordDeployment, rollbackDeployment, type RegistryServices,
} from './registry-store';
import {
  awsFunctionName, CONSUMED_BUILD_EVENT, DEFAULT_FUNCTION_LIMITS, DEFAULT_FUNCTION_SETTINGS, FUNCTION_PREFIX_PATTERN, LambdaRuntimeEnv, LIVE_ALIAS,
  PLATFORM_TAG_KEY, type CanaryCheckMessage, type DeploymentPolicy, type FunctionDeployment, type FunctionRecord,
} from '../../lib/lambda-runtime-service/contract';
import { ConfigurationError } from '../shared/config';
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

/** What moving the `live` alias needs (deploys, canary steps, promotion, rollback). */
export interface AliasServices {
  readonly registry: RegistryServices;
  readonly lambda: LambdaClient;
  /** The platform prefix of AWS function names. */
  readonly prefix: string;
  readonly log?: DeployLog;
}

/** The queue of delayed canary checks (CANARY_QUEUE_URL). */
export interface CanaryQueue {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
}

export interface DeployServices extends AliasServices {
  /** The one execution role of platform functions (the deploy role may pass only this one). */
  readonly executionRoleArn: string;
  /** Tags on every platform function; {@link PLATFORM_TAG_KEY} is always set to the prefix (the deploy role's IAM conditions key on it). */
  readonly tags: Readonly<Record<string, string>>;
  /** Caps every function's reserved concurrency. @default DEFAULT_FUNCTION_LIMITS.maxReservedConcurrency */
  readonly maxReservedConcurrency?: number;
  /** Lambda's destinations of `live`'s async invocations: the results queue (SQS) and the failure topic (SNS). */
  readonly asyncDestinations: { readonly onSuccess: string; readonly onFailure: string };
  /** Where a canary's first check is sent. */
  readonly canaryQueue: CanaryQueue;
  /** Budget of waiting for a function update to finish: polls × delay. @default 30 × 1000 ms */
  readonly wait?: { readonly attempts: number; readonly delayMs: number };
  /** Starts over after a concurrent deploy changed the function under us, at most this many times. @default 8 */
  readonly maxConflictRetries?: number;
}

/** Lambda retries a failed async invocation twice (its maximum) before the on-failure destination. */
export const ASYNC_MAXIMUM_RETRY_ATTEMPTS = 2;
/** SQS delays a message at most 15 minutes: a later check waits again on receipt. */
export const MAX_SQS_DELAY_SECONDS = 900;

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
const BUILD_ID = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
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
  // What recordDeployment requires, checked before any Lambda call: refused after a publish, the event would fail on every delivery.
  if (!BUILD_ID.test(p.jobId as string)) return { reason: 'payload.jobId: 1-64 letters, digits or -' };
  if (!ISO_MS.test(p.createdAt as string)) return { reason: 'payload.createdAt: an ISO 8601 UTC time with milliseconds' };
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

/** The tags of every platform function: the configured ones, and the platform tag (value: the prefix) always. */
export const platformTags = (services: Pick<DeployServices, 'tags' | 'prefix'>): Record<string, string> =>
  ({ ...services.tags, [PLATFORM_TAG_KEY]: services.prefix });

/** The record's reserved concurrency (registered before the field existed: the default), never above the limit. */
export function reservedConcurrencyOf(record: FunctionRecord, services: Pick<DeployServices, 'maxReservedConcurrency'>): number {
  const cap = services.maxReservedConcurrency ?? DEFAULT_FUNCTION_LIMITS.maxReservedConcurrency;
  return Math.min(record.reservedConcurrency ?? DEFAULT_FUNCTION_SETTINGS.reservedConcurrency, cap);
}

/** The record's deployment policy (registered before the field existed: all at once). */
export const deploymentPolicyOf = (record: FunctionRecord): DeploymentPolicy => record.deployment ?? DEFAULT_FUNCTION_SETTINGS.deployment;

/** How a new version of this record takes `live`: all at once, or a canary starting at `steps[0]`%. */
export function strategyOf(record: FunctionRecord): DeployStrategy {
  const policy = deploymentPolicyOf(record);
  return policy.strategy === 'canary' ? { type: 'canary', weight: policy.steps[0] / 100 } : { type: 'all-at-once' };
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

/** The function as it is: configuration, tags and reserved concurrency (one GetFunction); undefined when it does not exist. */
async function readFunction(name: string, services: DeployServices) {
  try {
    const out = await services.lambda.send(new GetFunctionCommand({ FunctionName: name }));
    return { config: out.Configuration!, tags: out.Tags ?? {}, reservedConcurrency: out.Concurrency?.ReservedConcurrentExecutions };
  } catch (error) {
    if (errorName(error) !== 'ResourceNotFoundException') throw error;
    return undefined;
  }
}

/**
 * Creates or updates `$LATEST` to the build's code and the registry's configuration, publishes it,
 * sets the reserved concurrency when it is not the registry's; the version.
 */
async function publish(record: FunctionRecord, build: ValidBuild, services: DeployServices): Promise<string> {
  const name = awsFunctionName(services.prefix, record.name);
  const desired = desiredConfig(record, services);
  const tags = platformTags(services);
  const codeSha256 = hexToCodeSha256(build.artifact.sha256);
  const existing = await readFunction(name, services);
  let latest: FunctionConfiguration;
  if (!existing) {
    // Publish false: the version is published below, checked against the artifact's hash like an update's.
    // A concurrent first deploy makes this a ResourceConflictException: the caller starts over and updates.
    latest = await services.lambda.send(new CreateFunctionCommand({
      FunctionName: name,
      ...desired,
      Code: { S3Bucket: build.artifact.bucket, S3Key: build.artifact.key },
      PackageType: 'Zip',
      Tags: tags,
      Publish: false,
    }));
  } else {
    // Tags first: the deploy role's IAM conditions on the platform tag must keep matching this function.
    if (Object.entries(tags).some(([k, v]) => existing.tags[k] !== v)) {
      await services.lambda.send(new TagResourceCommand({ Resource: existing.config.FunctionArn!, Tags: tags }));
    }
    const current = await settled(name, existing.config, services);
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
  // Function-level, so every version and alias shares it; after the publish, so it never races the revision chain.
  const concurrency = reservedConcurrencyOf(record, services);
  if (existing?.reservedConcurrency !== concurrency) {
    await services.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: name, ReservedConcurrentExecutions: concurrency }));
  }
  return version.Version!;
}

/**
 * `live`'s async settings: Lambda's destinations (results queue on success, failure topic on
 * failure) and its maximum retries. One read; a write only when missing or different, so a
 * redelivery or every later build costs one GetFunctionEventInvokeConfig.
 */
async function ensureAsyncConfig(name: string, services: DeployServices): Promise<void> {
  const { onSuccess, onFailure } = services.asyncDestinations;
  let current: GetFunctionEventInvokeConfigCommandOutput | undefined;
  try {
    current = await services.lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: name, Qualifier: LIVE_ALIAS }));
  } catch (error) {
    if (errorName(error) !== 'ResourceNotFoundException') throw error;
  }
  if (current && current.MaximumRetryAttempts === ASYNC_MAXIMUM_RETRY_ATTEMPTS
    && current.DestinationConfig?.OnSuccess?.Destination === onSuccess && current.DestinationConfig?.OnFailure?.Destination === onFailure) return;
  // Put replaces every setting (no maximum event age: Lambda's default, 6 h).
  await services.lambda.send(new PutFunctionEventInvokeConfigCommand({
    FunctionName: name,
    Qualifier: LIVE_ALIAS,
    MaximumRetryAttempts: ASYNC_MAXIMUM_RETRY_ATTEMPTS,
    DestinationConfig: { OnSuccess: { Destination: onSuccess }, OnFailure: { Destination: onFailure } },
  }));
}

/** Sends a canary check, delayed until it is due (at most 15 minutes: an earlier receipt waits again). */
export async function sendCanaryCheck(message: CanaryCheckMessage, now: Date, queue: CanaryQueue): Promise<number> {
  const delaySeconds = Math.max(0, Math.min(MAX_SQS_DELAY_SECONDS, Math.ceil((Date.parse(message.dueAt) - now.getTime()) / 1000)));
  await queue.sqs.send(new SendMessageCommand({ QueueUrl: queue.queueUrl, MessageBody: JSON.stringify(message), DelaySeconds: delaySeconds }));
  return delaySeconds;
}

/** The first check of a canary that starts now. */
async function startCanaryChecks(record: FunctionRecord, deployment: FunctionDeployment, step: number, services: DeployServices): Promise<void> {
  const policy = deploymentPolicyOf(record);
  if (policy.strategy !== 'canary') return;
  const now = services.registry.now();
  const message: CanaryCheckMessage = {
    name: record.name,
    buildId: deployment.buildId,
    lambdaVersion: deployment.lambdaVersion,
    step,
    stepStartedAt: now.toISOString(),
    dueAt: new Date(now.getTime() + policy.stepMinutes * 60_000).toISOString(),
  };
  const delaySeconds = await sendCanaryCheck(message, now, services.canaryQueue);
  services.log?.info('canary check scheduled', { function: record.name, lambdaVersion: deployment.lambdaVersion, step, dueAt: message.dueAt, delaySeconds });
}

/** Sets `live` to `version` with `weights` (a canary), creating it when it does not exist yet. */
export async function setAlias(
  name: string, version: string, weights: Record<string, number>, services: AliasServices, options: { create?: boolean; revisionId?: string } = {},
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

export async function getAlias(name: string, services: AliasServices): Promise<AliasConfiguration | undefined> {
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
 * Returns the alias as last read when it serves the current deployment (undefined otherwise).
 */
async function converge(recordName: string, services: AliasServices): Promise<AliasConfiguration | undefined> {
  const name = awsFunctionName(services.prefix, recordName);
  for (let attempt = 0; attempt < 5; attempt++) {
    const record = await getFunction(recordName, services.registry);
    const current = record?.currentDeployment;
    if (!current) return undefined;
    const alias = await getAlias(name, services);
    const weighted = Object.keys(alias?.RoutingConfig?.AdditionalVersionWeights ?? {});
    if (alias && (alias.FunctionVersion === current.lambdaVersion || weighted.includes(current.lambdaVersion))) return alias;
    try {
      await setAlias(name, current.lambdaVersion, {}, services, alias ? { revisionId: alias.RevisionId } : { create: true });
      services.log?.info('live alias moved to the registry\'s current deployment', { function: recordName, lambdaVersion: current.lambdaVersion });
    } catch (error) {
      if (errorName(error) !== 'PreconditionFailedException' && errorName(error) !== 'ResourceConflictException') throw error;
    }
  }
  return undefined;
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
      await repair(record!, services);
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

/**
 * A redelivered build that is already the current deployment: redo what a failure after
 * recordDeployment may have left undone (the alias move, `live`'s async settings, the canary's
 * check: a duplicate check is harmless, the checker acts only on the step the alias is at).
 */
async function repair(record: FunctionRecord, services: DeployServices): Promise<void> {
  const alias = await converge(record.name, services);
  if (!alias) return;
  await ensureAsyncConfig(awsFunctionName(services.prefix, record.name), services);
  const current = record.currentDeployment;
  const policy = deploymentPolicyOf(record);
  const weight = current && alias.RoutingConfig?.AdditionalVersionWeights?.[current.lambdaVersion];
  if (current && weight !== undefined && policy.strategy === 'canary') {
    const step = policy.steps.findIndex((s) => s / 100 === weight);
    if (step >= 0) await startCanaryChecks(record, current, step, services);
  }
}

async function finish(record: FunctionRecord, build: ValidBuild, lambdaVersion: string, services: DeployServices): Promise<DeployOutcome> {
  const name = awsFunctionName(services.prefix, record.name);
  const recorded = await recordDeployment(record.name, {
    buildId: build.jobId, buildCreatedAt: build.createdAt, lambdaVersion, codeSha256: hexToCodeSha256(build.artifact.sha256),
  }, services.registry);
  if (recorded.outcome === 'not_found' || recorded.outcome === 'deleted') {
    // Deleted while we published: the purge may already have run its DeleteFunction, so what we
    // created or updated would outlive the registry entry. Remove it (gone already is fine).
    await removeOrphan(name, services);
    return { outcome: 'deleted', name: record.name };
  }
  if (recorded.outcome !== 'deployed') {
    // A newer build won the race (our version stays published, unused) or this one was recorded already.
    await converge(record.name, services);
    return { outcome: recorded.outcome, name: record.name };
  }
  const previous: FunctionDeployment | undefined = recorded.record.previousDeployment;
  const strategy = strategyOf(recorded.record);
  // A canary needs something to stay on: the first deployment (or a redeploy of the same version) goes all at once.
  const canary = strategy.type === 'canary' && previous && previous.lambdaVersion !== lambdaVersion;
  if (canary) {
    await setAlias(name, previous.lambdaVersion, { [lambdaVersion]: strategy.weight }, services, { create: true });
  } else {
    await setAlias(name, lambdaVersion, {}, services, { create: !previous });
  }
  await ensureAsyncConfig(name, services);
  if (canary) await startCanaryChecks(recorded.record, recorded.record.currentDeployment!, 0, services);
  services.log?.info('build deployed', { function: record.name, buildId: build.jobId, lambdaVersion, strategy: canary ? 'canary' : 'all-at-once' });
  // The re-read of the protocol: a newer build recorded while we moved the alias wins it back.
  const after = await getFunction(record.name, services.registry);
  if (after?.currentDeployment && after.currentDeployment.lambdaVersion !== lambdaVersion) await converge(record.name, services);
  return { outcome: 'deployed', name: record.name, lambdaVersion, strategy: canary ? 'canary' : 'all-at-once' };
}

/** DeleteFunction of a platform function whose registry entry is deleted; a 404 means the purge got there first. */
async function removeOrphan(awsName: string, services: DeployServices): Promise<void> {
  try {
    await services.lambda.send(new DeleteFunctionCommand({ FunctionName: awsName }));
    services.log?.warn('function deleted during its deploy: removed what the deploy left', { function: awsName });
  } catch (error) {
    if (errorName(error) !== 'ResourceNotFoundException') throw error;
  }
}

/** The canary a promotion was asked for is no longer the registry's current deployment. */
export class SupersededError extends Error {
  override readonly name = 'SupersededError';
}

/**
 * Moves all of `live`'s traffic to the registry's current deployment (ends a canary). With
 * `expected` (the canary's version and the alias revision the caller judged), the move is
 * conditional: a newer deployment recorded meanwhile throws {@link SupersededError}, another move of
 * the alias Lambda's PreconditionFailedException.
 */
export async function promoteCanary(
  recordName: string, services: AliasServices, expected?: { lambdaVersion: string; aliasRevisionId?: string },
): Promise<string> {
  const record = await getFunction(recordName, services.registry);
  if (!record?.currentDeployment) throw new FunctionNotFoundError(recordName);
  const version = record.currentDeployment.lambdaVersion;
  if (expected && expected.lambdaVersion !== version) throw new SupersededError(`${recordName}: version ${version} is current, not ${expected.lambdaVersion}`);
  await setAlias(awsFunctionName(services.prefix, recordName), version, {}, services, { revisionId: expected?.aliasRevisionId });
  return version;
}

/**
 * Ends a canary by sending all traffic back to the previous version: the registry's current
 * deployment becomes the previous one first (conditional on the canary's version, so a retry or a
 * newer deploy is not undone: registry-store's 412), then the alias follows it, and converges on
 * the registry again should a newer build have been recorded meanwhile.
 */
export async function rollbackCanary(recordName: string, services: AliasServices, fromLambdaVersion?: string): Promise<string> {
  let from = fromLambdaVersion;
  if (from === undefined) {
    const record = await getFunction(recordName, services.registry);
    if (!record?.currentDeployment) throw new FunctionNotFoundError(recordName);
    from = record.currentDeployment.lambdaVersion;
  }
  const rolled = await rollbackDeployment(recordName, services.registry, { fromLambdaVersion: from });
  const version = rolled.currentDeployment!.lambdaVersion;
  await setAlias(awsFunctionName(services.prefix, recordName), version, {}, services);
  const after = await getFunction(recordName, services.registry);
  if (after?.currentDeployment && after.currentDeployment.lambdaVersion !== version) await converge(recordName, services);
  return version;
}

/* ---------------------------------------------------------------- handler configuration (read once at init) */

/** PLATFORM_FUNCTION_TAGS (a JSON object of strings). */
export function parseFunctionTags(value: string): Record<string, string> {
  let parsed: unknown;
  try { parsed = JSON.parse(value); } catch { parsed = undefined; }
  if (!isObject(parsed) || !Object.values(parsed).every((v) => typeof v === 'string')) {
    throw new ConfigurationError(`${LambdaRuntimeEnv.FUNCTION_TAGS}: a JSON object of string values expected`);
  }
  return parsed as Record<string, string>;
}

/** FUNCTION_NAME_PREFIX: the contract's pattern, or the deploy role's `function:{prefix}-*` would not be the platform's namespace. */
export function parsePrefix(value: string): string {
  if (!FUNCTION_PREFIX_PATTERN.test(value)) throw new ConfigurationError(`${LambdaRuntimeEnv.FUNCTION_PREFIX}: '${value}' does not match ${FUNCTION_PREFIX_PATTERN}`);
  return value;
}
