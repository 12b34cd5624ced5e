import { REGION } from './local-aws';
import { AwsJsonError, LocalJsonEndpoint, startJsonEndpoint } from './local-json-endpoint';

/**
 * Secrets Manager's GetSecretValue on the AWS JSON 1.1 wire protocol. No npm engine
 * emulates Secrets Manager; the handler's SDK client (through Powertools parameters) sends
 * real HTTP requests here.
 */
export interface LocalSecretsManager extends LocalJsonEndpoint {
  /** Creates or replaces a secret's value; returns its ARN. */
  put(name: string, secretString: string): string;
  /** How many GetSecretValue calls arrived. */
  reads(): number;
}

export async function startLocalSecretsManager(): Promise<LocalSecretsManager> {
  const secrets = new Map<string, { name: string; value: string; version: number }>();
  const arnOf = (name: string) => `arn:aws:secretsmanager:${REGION}:000000000000:secret:${name}-AbCdEf`;
  const endpoint = await startJsonEndpoint({
    'secretsmanager.GetSecretValue': ({ SecretId }: { SecretId: string }) => {
      const secret = secrets.get(SecretId);
      if (!secret) throw new AwsJsonError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
      return {
        ARN: arnOf(secret.name),
        Name: secret.name,
        SecretString: secret.value,
        VersionId: `v${secret.version}`,
        VersionStages: ['AWSCURRENT'],
        CreatedDate: Date.now() / 1000,
      };
    },
  });
  return {
    ...endpoint,
    put(name, value) {
      const arn = arnOf(name);
      const version = (secrets.get(arn)?.version ?? 0) + 1;
      const entry = { name, value, version };
      secrets.set(arn, entry);
      secrets.set(name, entry);
      return arn;
    },
    reads: () => endpoint.calls.filter((c) => c.target === 'secretsmanager.GetSecretValue').length,
  };
}
