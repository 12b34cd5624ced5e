import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import {
  DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, ResourceNotFoundException, UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import middy from '@middy/core';
import { rotateWebhookSecret, type RotationEvent, type SecretStore } from './rotate-webhook-secret-logic';
import { readWebhookSettings } from './settings';
import { BuildPipelineHandlers } from '../../lib/build-pipeline/contract';
import { secretsManagerClient as sm } from '../shared/clients/secrets-manager';
import { readConfig } from '../shared/config';
import { createLogger } from '../shared/logger';

const contract = BuildPipelineHandlers.rotateWebhookSecret;
const config = readConfig(contract.environment);
const logger = createLogger(contract.serviceName);
const settings = readWebhookSettings(config.BUILD_WEBHOOK_SETTINGS);

/** Secrets Manager, as the rotation steps use it: DescribeSecret, GetSecretValue, PutSecretValue, UpdateSecretVersionStage. */
const store: SecretStore = {
  async describe(secretId) {
    const out = await sm.send(new DescribeSecretCommand({ SecretId: secretId }));
    return { rotationEnabled: out.RotationEnabled === true, versions: out.VersionIdsToStages ?? {} };
  },
  async getValue(secretId, stage, versionId) {
    try {
      const input = { SecretId: secretId, VersionStage: stage, ...(versionId ? { VersionId: versionId } : {}) };
      return (await sm.send(new GetSecretValueCommand(input))).SecretString;
    } catch (error) {
      if (error instanceof ResourceNotFoundException || (error as Error).name === 'ResourceNotFoundException') return undefined;
      throw error;
    }
  },
  async putPending(secretId, token, value) {
    await sm.send(new PutSecretValueCommand({ SecretId: secretId, ClientRequestToken: token, SecretString: value, VersionStages: ['AWSPENDING'] }));
  },
  async moveCurrent(secretId, toVersion, fromVersion) {
    await sm.send(new UpdateSecretVersionStageCommand({
      SecretId: secretId, VersionStage: 'AWSCURRENT', MoveToVersionId: toVersion, RemoveFromVersionId: fromVersion,
    }));
  },
};

/** Secrets Manager's rotation function for the webhook signing secret (one call per step). */
export const handler = middy<RotationEvent, void>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => {
    // The token names the new version; no secret value is ever logged.
    logger.appendKeys({ step: event.Step, versionId: event.ClientRequestToken });
    const result = await rotateWebhookSecret(event, { store, now: () => new Date(), overlapSeconds: settings.rotationOverlapSeconds });
    logger.info('Rotation step done', { result });
  });
