/**
 * The rollback API's logic: the registry's previous deployment becomes current, then the `live`
 * alias serves it with all the traffic (a canary split is cleared).
 *
 * Why not deploy-logic's rollbackCanary: it conditions the registry swap on the version it has just
 * read itself, so a caller's retry (or a second click) swaps back and rolls *forward* to the build
 * that was rolled back; and its services ask for the deployer's role and tags, which this handler
 * neither has nor needs. Here the swap is `onlyToOlder`: once rolled back, the previous deployment
 * is the newer one, and another rollback is 409 NOTHING_TO_ROLL_BACK.
 */
import { UpdateAliasCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { validateFunctionName } from './function-validation';
import {
  FunctionNotFoundError, getFunction, NothingToRollBackError, rollbackDeployment, VersionMismatchError, type RegistryServices,
} from './registry-store';
import { awsFunctionName, LIVE_ALIAS, RegistryLayout, type FunctionRecord } from '../../lib/lambda-runtime-service/contract';
import { ConflictError } from '../shared/errors';

export interface RollbackServices {
  readonly registry: RegistryServices;
  readonly lambda: LambdaClient;
  /** The platform prefix of AWS function names. */
  readonly prefix: string;
  readonly log?: { info(message: string, extra?: Record<string, unknown>): void };
}

export interface RollbackResult {
  readonly name: string;
  /** The Lambda version `live` now serves. */
  readonly lambdaVersion: string;
  readonly buildId: string;
}

/** `live` → `version`, all traffic (AdditionalVersionWeights emptied: a canary in progress ends). */
async function pointLiveAt(name: string, version: string, services: RollbackServices): Promise<void> {
  await services.lambda.send(new UpdateAliasCommand({
    FunctionName: awsFunctionName(services.prefix, name),
    Name: LIVE_ALIAS,
    FunctionVersion: version,
    RoutingConfig: { AdditionalVersionWeights: {} },
  }));
}

/**
 * `live` → `version`, then the registry read again: a deploy may have recorded a newer build after
 * our read and moved `live` before our move landed. The registry is the truth, so `live` then
 * follows its current deployment (all traffic, as deploy-logic's converge does).
 */
async function settleLive(name: string, version: string, services: RollbackServices): Promise<void> {
  await pointLiveAt(name, version, services);
  const latest = (await getFunction(name, services.registry))?.currentDeployment;
  if (latest && latest.lambdaVersion !== version) await pointLiveAt(name, latest.lambdaVersion, services);
}

/** Rolled back already: the previous deployment is newer than the current one (the swap a rollback leaves). */
const alreadyRolledBack = (record: FunctionRecord) => {
  const { currentDeployment: cur, previousDeployment: prev } = record;
  return !!cur && !!prev && RegistryLayout.buildOrder(prev.buildCreatedAt, prev.buildId) > RegistryLayout.buildOrder(cur.buildCreatedAt, cur.buildId);
};

/**
 * Rolls `name` back to its previous deployment. 404 when the function is absent or deleted, 409
 * NOTHING_TO_ROLL_BACK when there is no older deployment, 409 CONFLICT when a concurrent deploy
 * changed the current deployment between the read and the swap (read again, decide again).
 */
export async function rollbackFunction(rawName: string | undefined, services: RollbackServices): Promise<RollbackResult> {
  const name = validateFunctionName(rawName, "Invalid path parameter 'name'");
  const record = await getFunction(name, services.registry);
  if (!record) throw new FunctionNotFoundError(name);
  const current = record.currentDeployment;
  if (!current) throw new NothingToRollBackError(name);
  if (alreadyRolledBack(record)) {
    // A retry after the swap was recorded but the alias move failed (a crash, a throttle) would
    // otherwise leave `live` on the rolled-back version for good: with no deploy since the
    // rollback, `live` must serve the current deployment alone, so setting it again is safe.
    await settleLive(name, current.lambdaVersion, services);
    throw new NothingToRollBackError(name);
  }

  let rolled: FunctionRecord;
  try {
    // Conditional on the current version read above and on going to an older build: of two
    // concurrent rollbacks exactly one swaps; a retry never swaps back.
    rolled = await rollbackDeployment(name, services.registry, { fromLambdaVersion: current.lambdaVersion, onlyToOlder: true });
  } catch (error) {
    if (!(error instanceof VersionMismatchError)) throw error;
    const now = await getFunction(name, services.registry);
    if (!now) throw new FunctionNotFoundError(name);
    if (!now.previousDeployment || alreadyRolledBack(now)) throw new NothingToRollBackError(name);
    throw new ConflictError(`The function '${name}' was deployed while rolling back: read it again and retry if still wanted`);
  }
  const target = rolled.currentDeployment!;
  await settleLive(name, target.lambdaVersion, services);
  services.log?.info('Function rolled back', { function: name, lambdaVersion: target.lambdaVersion, from: current.lambdaVersion });
  return { name, lambdaVersion: target.lambdaVersion, buildId: target.buildId };
}
