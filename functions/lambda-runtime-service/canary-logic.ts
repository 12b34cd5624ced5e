/**
 * Canary checks: a delayed {@link CanaryCheckMessage} per step judges the new version's audited
 * invocations since the step started, then moves the canary one step (next weight, promotion) or
 * rolls it back. No handler here: check-canaries (the canary queue's consumer) calls
 * {@link checkCanary} with its clients.
 *
 * Every action is conditional, so duplicate, late or out-of-order messages are harmless:
 * - the registry's current deployment must still be the message's build and version (a newer
 *   deploy, a rollback or a deletion ends the canary's checks);
 * - `live` must be exactly at the message's step (primary = the previous version, the canary's
 *   weight = `steps[step]`%): a duplicate of an already judged step finds the alias moved on and
 *   does nothing;
 * - the alias move is conditional on the RevisionId read, so two copies judged at once move it once;
 * - the rollback is conditional on the registry's current version (registry-store's 412);
 * - the next step's check is sent before the alias moves: a failure between the two retries this
 *   message (the alias is still at this step), never leaves a moved alias without a check.
 */
import {
  deploymentPolicyOf, getAlias, promoteCanary, rollbackCanary, sendCanaryCheck, setAlias, SupersededError,
  type AliasServices, type CanaryQueue,
} from './deploy-logic';
import { listInvocations, type AuditServices } from './invocation-audit';
import { FunctionNotFoundError, getFunction, NothingToRollBackError, VersionMismatchError } from './registry-store';
import {
  awsFunctionName, FUNCTION_NAME_PATTERN, InvocationStatus, type CanaryCheckMessage, type FunctionRecord,
} from '../../lib/lambda-runtime-service/contract';

export interface CanaryServices extends AliasServices {
  readonly audit: AuditServices;
  readonly canaryQueue: CanaryQueue;
  readonly now: () => Date;
  /** Pages of 100 audit items read per judgement, newest first (a sample of a busy function). @default 20 */
  readonly maxAuditPages?: number;
}

/** What a check did. */
export type CanaryOutcome =
  /** Not due yet (SQS delays at most 15 minutes): sent again with the remaining delay. */
  | { readonly outcome: 'waiting'; readonly delaySeconds: number }
  /** Nothing to do: the canary is no longer the current deployment, or `live` is not at this step (a duplicate). */
  | { readonly outcome: 'superseded'; readonly reason: string }
  /** Too few invocations to judge: the step waits once more. */
  | { readonly outcome: 'extended'; readonly invocations: number; readonly dueAt: string }
  /** Healthy: the next step's weight is live. */
  | { readonly outcome: 'advanced'; readonly step: number; readonly weight: number; readonly invocations: number; readonly errors: number }
  /** Healthy after the last step: the new version takes all traffic. */
  | { readonly outcome: 'promoted'; readonly invocations: number; readonly errors: number }
  /** The error rate crossed the threshold: all traffic is back on the previous version. */
  | {
    readonly outcome: 'rolled-back'; readonly toVersion: string; readonly invocations: number; readonly errors: number; readonly errorRatePercent: number;
  };

const MAX_EXTENSIONS = 1;
const WEIGHT_EPSILON = 1e-9;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const errorName = (error: unknown) => (error as { name?: string })?.name;

/** A canary queue message body, or why it is not one (a retry cannot fix that: the consumer drops it). */
export function parseCanaryCheck(body: string): { message: CanaryCheckMessage } | { reason: string } {
  let m: unknown;
  try { m = JSON.parse(body); } catch { return { reason: 'not JSON' }; }
  if (!isObject(m)) return { reason: 'not an object' };
  if (typeof m.name !== 'string' || !FUNCTION_NAME_PATTERN.test(m.name)) return { reason: 'name: a registered function name' };
  if (typeof m.buildId !== 'string' || m.buildId.length === 0) return { reason: 'buildId: missing' };
  if (typeof m.lambdaVersion !== 'string' || !/^[0-9]{1,10}$/.test(m.lambdaVersion)) return { reason: 'lambdaVersion: a published version number' };
  if (!Number.isInteger(m.step) || (m.step as number) < 0) return { reason: 'step: an integer >= 0' };
  for (const field of ['stepStartedAt', 'dueAt'] as const) {
    if (typeof m[field] !== 'string' || !ISO.test(m[field] as string)) return { reason: `${field}: an ISO 8601 UTC time with milliseconds` };
  }
  if (m.extensions !== undefined && (!Number.isInteger(m.extensions) || (m.extensions as number) < 0)) return { reason: 'extensions: an integer >= 0' };
  return { message: m as unknown as CanaryCheckMessage };
}

/** The new version's finished invocations since the step started (a throttle or a pending async call is not the version's doing). */
async function countInvocations(message: CanaryCheckMessage, now: Date, services: CanaryServices) {
  let invocations = 0;
  let errors = 0;
  let nextToken: string | undefined;
  const to = new Date(now.getTime() + 1).toISOString();
  if (message.stepStartedAt >= to) return { invocations, errors };
  for (let page = 0; page < (services.maxAuditPages ?? 20); page++) {
    const result = await listInvocations(message.name, { from: message.stepStartedAt, to, limit: 100, nextToken }, services.audit);
    for (const item of result.invocations) {
      if (item.version !== message.lambdaVersion) continue;
      if (item.status === InvocationStatus.SUCCESS) invocations++;
      if (item.status === InvocationStatus.ERROR || item.status === InvocationStatus.TIMEOUT) {
        invocations++;
        errors++;
      }
    }
    nextToken = result.nextToken;
    if (!nextToken) break;
  }
  return { invocations, errors };
}

/** Why the registry's current deployment is not this canary's (undefined when it is). */
function notCurrent(record: FunctionRecord | undefined, message: CanaryCheckMessage): string | undefined {
  const current = record?.currentDeployment;
  if (!record || !current) return 'the function is deleted';
  if (current.lambdaVersion !== message.lambdaVersion || current.buildId !== message.buildId) {
    return `the current deployment is version ${current.lambdaVersion} (build ${current.buildId})`;
  }
  return undefined;
}

/** A conditional move or rollback refused because another deploy, rollback or check got there first. */
function isSuperseded(error: unknown): boolean {
  return error instanceof SupersededError || error instanceof VersionMismatchError || error instanceof NothingToRollBackError
    || error instanceof FunctionNotFoundError || errorName(error) === 'PreconditionFailedException';
}

/** Judges one canary step (see the module comment). Lambda, SQS and DynamoDB failures throw: the message is retried. */
export async function checkCanary(message: CanaryCheckMessage, services: CanaryServices): Promise<CanaryOutcome> {
  const now = services.now();
  if (Date.parse(message.dueAt) > now.getTime()) {
    return { outcome: 'waiting', delaySeconds: await sendCanaryCheck(message, now, services.canaryQueue) };
  }
  const record = await getFunction(message.name, services.registry);
  const name = awsFunctionName(services.prefix, message.name);
  const stale = notCurrent(record, message);
  if (stale) return { outcome: 'superseded', reason: await finishRollback(name, record, message, services) ?? stale };
  const policy = deploymentPolicyOf(record!);
  const previous = record!.previousDeployment?.lambdaVersion;
  const alias = await getAlias(name, services);
  const weight = alias?.RoutingConfig?.AdditionalVersionWeights?.[message.lambdaVersion];

  if (policy.strategy !== 'canary') {
    // The policy became all-at-once during the canary: finish it now (if it is still running).
    if (weight === undefined) return { outcome: 'superseded', reason: 'live is not splitting traffic to this version' };
    return promote(message, alias!.RevisionId, { invocations: 0, errors: 0 }, services);
  }
  const expected = policy.steps[message.step];
  if (expected === undefined || !alias || alias.FunctionVersion !== previous || weight === undefined
    || Math.abs(weight - expected / 100) > WEIGHT_EPSILON) {
    return { outcome: 'superseded', reason: `live is not at step ${message.step} of this canary` };
  }

  const counts = await countInvocations(message, now, services);
  const errorRatePercent = counts.invocations === 0 ? 0 : (counts.errors / counts.invocations) * 100;
  const enough = counts.invocations >= policy.minInvocations;
  if (!enough && (message.extensions ?? 0) < MAX_EXTENSIONS) {
    // Judged from the same start: the extended step sees its first period's invocations too.
    const dueAt = new Date(now.getTime() + policy.stepMinutes * 60_000).toISOString();
    await sendCanaryCheck({ ...message, dueAt, extensions: (message.extensions ?? 0) + 1 }, now, services.canaryQueue);
    return { outcome: 'extended', invocations: counts.invocations, dueAt };
  }
  // Enough calls, or an extended step judged on what it has: any error rate above the threshold rolls back.
  if (errorRatePercent > policy.maxErrorRatePercent) {
    try {
      const toVersion = await rollbackCanary(message.name, services, message.lambdaVersion);
      return { outcome: 'rolled-back', toVersion, ...counts, errorRatePercent };
    } catch (error) {
      if (!isSuperseded(error)) throw error;
      return { outcome: 'superseded', reason: `rollback refused: ${(error as Error).message}` };
    }
  }
  const next = message.step + 1;
  if (next >= policy.steps.length) return promote(message, alias.RevisionId, counts, services);
  const nextWeight = policy.steps[next] / 100;
  await sendCanaryCheck({
    name: message.name,
    buildId: message.buildId,
    lambdaVersion: message.lambdaVersion,
    step: next,
    stepStartedAt: now.toISOString(),
    dueAt: new Date(now.getTime() + policy.stepMinutes * 60_000).toISOString(),
  }, now, services.canaryQueue);
  try {
    await setAlias(name, previous!, { [message.lambdaVersion]: nextWeight }, services, { revisionId: alias.RevisionId });
  } catch (error) {
    if (!isSuperseded(error)) throw error;
    return { outcome: 'superseded', reason: 'live moved while the step was judged' };
  }
  return { outcome: 'advanced', step: next, weight: nextWeight, ...counts };
}

/**
 * A rollback is two writes: the registry, then the alias. When the first was done and the second
 * was not (a failure between them; the retried message then finds the canary superseded), `live`
 * still serves the registry's current version with a weight on this canary: take the weight off,
 * conditional on the alias revision. A newer deploy's canary (another version weighted) is left alone.
 */
async function finishRollback(
  name: string, record: FunctionRecord | undefined, message: CanaryCheckMessage, services: CanaryServices,
): Promise<string | undefined> {
  const current = record?.currentDeployment?.lambdaVersion;
  if (!current || current === message.lambdaVersion) return undefined;
  const alias = await getAlias(name, services);
  const weighted = alias?.RoutingConfig?.AdditionalVersionWeights?.[message.lambdaVersion] !== undefined;
  if (!alias || alias.FunctionVersion !== current || !weighted) return undefined;
  try {
    await setAlias(name, current, {}, services, { revisionId: alias.RevisionId });
  } catch (error) {
    if (!isSuperseded(error)) throw error;
    return undefined;
  }
  services.log?.info('live alias: the rolled-back canary\'s weight removed', {
    function: message.name, lambdaVersion: message.lambdaVersion, live: current,
  });
  return `rolled back to version ${current}: live's weight on ${message.lambdaVersion} removed`;
}

async function promote(
  message: CanaryCheckMessage, aliasRevisionId: string | undefined, counts: { invocations: number; errors: number }, services: CanaryServices,
): Promise<CanaryOutcome> {
  try {
    await promoteCanary(message.name, services, { lambdaVersion: message.lambdaVersion, aliasRevisionId });
  } catch (error) {
    if (!isSuperseded(error)) throw error;
    return { outcome: 'superseded', reason: 'live moved while the step was judged' };
  }
  return { outcome: 'promoted', ...counts };
}
