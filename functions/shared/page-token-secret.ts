import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { secretsManagerClient } from './clients/secrets-manager';
import { cachedSecretKey } from './page-token';

/**
 * The page-token HMAC key from its secret: read once per container (and hourly after, so a
 * rotated value is picked up within the hour), and only by a listing that pages.
 */
export function pageTokenKeyFromSecret(secretArn: string): () => Promise<Uint8Array> {
  return cachedSecretKey({
    fetch: async () => (await secretsManagerClient.send(new GetSecretValueCommand({ SecretId: secretArn }))).SecretString,
    maxAgeMs: 3_600_000,
  });
}
