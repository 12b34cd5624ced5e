import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

// Created once per container; the endpoint comes from AWS_ENDPOINT_URL_SECRETS_MANAGER when set.
export const secretsManagerClient = new SecretsManagerClient({});
