/**
 * Rotation of the webhook signing secret, the four steps Secrets Manager calls (see
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_lambda-functions.html).
 * The new version keeps the old current as `previous` until `previousUntil`, so deliveries
 * carry both signatures for the overlap and receivers switch secrets at their own pace.
 */
import { parseWebhookSecret, rotatedSecret } from './webhook-secrets';
import { SECRET_PREFIX, signOnce } from '../shared/outbound-webhook/standard-webhooks-signer';

export const ROTATION_STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
export type RotationStep = (typeof ROTATION_STEPS)[number];

export interface RotationEvent {
  readonly SecretId: string;
  readonly ClientRequestToken: string;
  readonly Step: RotationStep;
}

/** The Secrets Manager calls the steps need (the handler maps them onto the SDK). */
export interface SecretStore {
  /** DescribeSecret: whether rotation is on, and each version's stages. */
  describe(secretId: string): Promise<{ readonly rotationEnabled: boolean; readonly versions: Readonly<Record<string, readonly string[]>> }>;
  /** GetSecretValue of a stage (and version); undefined when no such version holds the stage. */
  getValue(secretId: string, stage: string, versionId?: string): Promise<string | undefined>;
  /** PutSecretValue of a new version `token` holding AWSPENDING. */
  putPending(secretId: string, token: string, value: string): Promise<void>;
  /** UpdateSecretVersionStage: AWSCURRENT to `toVersion`, off `fromVersion`. */
  moveCurrent(secretId: string, toVersion: string, fromVersion: string): Promise<void>;
}

export interface RotationServices {
  readonly store: SecretStore;
  readonly now: () => Date;
  readonly overlapSeconds: number;
}

/** A rotation that cannot go on (Secrets Manager marks it failed and retries later). */
export class RotationError extends Error {
  override readonly name: string = 'RotationError';
}

export type RotationResult = 'created' | 'already_pending' | 'nothing_to_set' | 'tested' | 'finished' | 'already_current';

export async function rotateWebhookSecret(event: RotationEvent, services: RotationServices): Promise<RotationResult> {
  const { SecretId: id, ClientRequestToken: token, Step: step } = event;
  if (!ROTATION_STEPS.includes(step)) throw new RotationError(`Unknown rotation step ${String(step)}`);
  const { rotationEnabled, versions } = await services.store.describe(id);
  if (!rotationEnabled) throw new RotationError('Rotation is not enabled on this secret');
  const stages = versions[token];
  if (!stages) throw new RotationError('The rotation token is not a version of this secret');
  // A step repeated after the rotation finished (Secrets Manager retries) has nothing to do.
  if (stages.includes('AWSCURRENT')) return 'already_current';
  if (!stages.includes('AWSPENDING')) throw new RotationError('The rotation token\'s version is not AWSPENDING');
  switch (step) {
    case 'createSecret': return createSecret(id, token, services);
    // No downstream system holds this secret (receivers get it from the operator, out of band, and
    // the overlap keeps the old one signing meanwhile): there is nothing to set.
    case 'setSecret': return 'nothing_to_set';
    case 'testSecret': return testSecret(id, token, services);
    default: return finishSecret(id, token, versions, services);
  }
}

async function createSecret(id: string, token: string, services: RotationServices): Promise<RotationResult> {
  // Idempotent on the token: a retried createSecret finds its version and writes nothing.
  if (await services.store.getValue(id, 'AWSPENDING', token) !== undefined) return 'already_pending';
  const current = parseWebhookSecret(await services.store.getValue(id, 'AWSCURRENT'));
  const next = rotatedSecret(current, services.now(), services.overlapSeconds);
  await services.store.putPending(id, token, JSON.stringify(next));
  return 'created';
}

async function testSecret(id: string, token: string, services: RotationServices): Promise<RotationResult> {
  const raw = await services.store.getValue(id, 'AWSPENDING', token);
  if (raw === undefined) throw new RotationError('No AWSPENDING value for this token');
  const value = parseWebhookSecret(raw);
  // What createSecret writes: JSON with prefixed secrets, a new current, each able to sign.
  if (!raw.trimStart().startsWith('{') || !JSON.parse(raw).current?.startsWith(SECRET_PREFIX)) {
    throw new RotationError('The pending value is not the JSON createSecret writes');
  }
  const current = parseWebhookSecret(await services.store.getValue(id, 'AWSCURRENT'));
  if (value.current === current.current) throw new RotationError('The pending value did not change the current secret');
  for (const secret of [value.current, value.previous].filter((s): s is string => !!s)) signOnce(secret, 'rotation-test', 0, '{}');
  return 'tested';
}

async function finishSecret(
  id: string, token: string, versions: Readonly<Record<string, readonly string[]>>, services: RotationServices,
): Promise<RotationResult> {
  const current = Object.keys(versions).find((v) => versions[v].includes('AWSCURRENT'));
  if (!current) throw new RotationError('No version holds AWSCURRENT');
  await services.store.moveCurrent(id, token, current);
  return 'finished';
}
