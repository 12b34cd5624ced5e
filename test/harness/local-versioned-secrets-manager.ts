import { randomUUID } from 'node:crypto';
import { REGION } from './local-aws';
import { AwsJsonError, LocalJsonEndpoint, startJsonEndpoint } from './local-json-endpoint';

/**
 * Secrets Manager with versions and staging labels, on the AWS JSON 1.1 wire protocol, for
 * the webhook secret's deliverer and rotation: GetSecretValue (by stage and/or version),
 * DescribeSecret, PutSecretValue (with stages and an idempotent ClientRequestToken) and
 * UpdateSecretVersionStage, with the service's rules: a stage lives on one version, moving
 * AWSCURRENT needs RemoveFromVersionId and puts AWSPREVIOUS on the old version. The harness's
 * `local-secrets-manager.ts` serves GetSecretValue only.
 */
export interface VersionedSecretsManager extends LocalJsonEndpoint {
  /** Creates a secret (rotation enabled) whose AWSCURRENT is `value`; returns its ARN. */
  create(name: string, value: string): string;
  /** What RotateSecret does before calling the rotation function: a new version holding AWSPENDING, no value yet. */
  startRotation(arn: string, token?: string): string;
  /** Sets a new AWSCURRENT value directly (as a manual PutSecretValue would). */
  putCurrent(arn: string, value: string): void;
  current(arn: string): string;
  stages(arn: string): Record<string, string[]>;
  count(operation: string): number;
}

interface Secret { name: string; arn: string; versions: Map<string, { value?: string; stages: Set<string> }> }

export async function startVersionedSecretsManager(): Promise<VersionedSecretsManager> {
  const secrets = new Map<string, Secret>();
  const find = (id: string): Secret => {
    const secret = secrets.get(id);
    if (!secret) throw new AwsJsonError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return secret;
  };
  const holder = (secret: Secret, stage: string) => [...secret.versions].find(([, v]) => v.stages.has(stage))?.[0];
  const moveStage = (secret: Secret, stage: string, to: string) => {
    for (const v of secret.versions.values()) v.stages.delete(stage);
    secret.versions.get(to)!.stages.add(stage);
  };
  const stagesOf = (secret: Secret) =>
    Object.fromEntries([...secret.versions].filter(([, v]) => v.stages.size > 0).map(([id, v]) => [id, [...v.stages]]));

  const endpoint = await startJsonEndpoint({
    'secretsmanager.GetSecretValue': ({ SecretId, VersionId, VersionStage }) => {
      const secret = find(SecretId);
      const versionId = VersionId ?? holder(secret, VersionStage ?? 'AWSCURRENT');
      const version = versionId ? secret.versions.get(versionId) : undefined;
      if (!version || version.value === undefined || (VersionStage && !version.stages.has(VersionStage))) {
        throw new AwsJsonError('ResourceNotFoundException', "Secrets Manager can't find the specified secret value for staging label or version.");
      }
      return {
        ARN: secret.arn,
        Name: secret.name,
        SecretString: version.value,
        VersionId: versionId,
        VersionStages: [...version.stages],
        CreatedDate: Date.now() / 1000,
      };
    },
    'secretsmanager.DescribeSecret': ({ SecretId }) => {
      const secret = find(SecretId);
      return { ARN: secret.arn, Name: secret.name, RotationEnabled: true, VersionIdsToStages: stagesOf(secret) };
    },
    'secretsmanager.PutSecretValue': ({ SecretId, ClientRequestToken, SecretString, VersionStages }) => {
      const secret = find(SecretId);
      const token = ClientRequestToken ?? randomUUID();
      const existing = secret.versions.get(token);
      if (existing?.value !== undefined) {
        if (existing.value !== SecretString) throw new AwsJsonError('ResourceExistsException', 'A version with this token exists with another value.');
        return { ARN: secret.arn, Name: secret.name, VersionId: token, VersionStages: [...existing.stages] };
      }
      secret.versions.set(token, { value: SecretString, stages: existing?.stages ?? new Set() });
      for (const stage of (VersionStages as string[] | undefined) ?? ['AWSCURRENT']) moveStage(secret, stage, token);
      return { ARN: secret.arn, Name: secret.name, VersionId: token, VersionStages: [...secret.versions.get(token)!.stages] };
    },
    'secretsmanager.UpdateSecretVersionStage': ({ SecretId, VersionStage, MoveToVersionId, RemoveFromVersionId }) => {
      const secret = find(SecretId);
      const from = holder(secret, VersionStage);
      if (from && from !== MoveToVersionId && from !== RemoveFromVersionId) {
        throw new AwsJsonError('InvalidParameterException', `The staging label ${VersionStage} is attached to version ${from}: name it in RemoveFromVersionId.`);
      }
      if (!secret.versions.has(MoveToVersionId)) throw new AwsJsonError('ResourceNotFoundException', 'No such version.');
      moveStage(secret, VersionStage, MoveToVersionId);
      if (VersionStage === 'AWSCURRENT' && from && from !== MoveToVersionId) {
        moveStage(secret, 'AWSPREVIOUS', from);
        secret.versions.get(MoveToVersionId)!.stages.delete('AWSPENDING'); // the service drops it when a rotation completes
      }
      return { ARN: secret.arn, Name: secret.name };
    },
  });

  const put = (secret: Secret, value: string) => {
    const token = randomUUID();
    secret.versions.set(token, { value, stages: new Set() });
    const from = holder(secret, 'AWSCURRENT');
    moveStage(secret, 'AWSCURRENT', token);
    if (from) moveStage(secret, 'AWSPREVIOUS', from);
  };
  return {
    ...endpoint,
    create(name, value) {
      const arn = `arn:aws:secretsmanager:${REGION}:000000000000:secret:${name}-AbCdEf`;
      const secret: Secret = { name, arn, versions: new Map() };
      put(secret, value);
      secrets.set(arn, secret);
      secrets.set(name, secret);
      return arn;
    },
    startRotation(arn, token = randomUUID()) {
      const secret = find(arn);
      secret.versions.set(token, { stages: new Set() });
      moveStage(secret, 'AWSPENDING', token);
      return token;
    },
    putCurrent: (arn, value) => put(find(arn), value),
    current: (arn) => find(arn).versions.get(holder(find(arn), 'AWSCURRENT')!)!.value!,
    stages: (arn) => stagesOf(find(arn)),
    count: (operation) => endpoint.calls.filter((c) => c.target === `secretsmanager.${operation}`).length,
  };
}
