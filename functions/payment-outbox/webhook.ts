import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { toProviderEvent, providerEventSchema } from './provider-event-schema';
import { recordProviderEvent, type RecordServices } from './record-provider-event';
import { SigningSecretCache } from './signing-secrets';
import { verifyWebhookBody } from './verify-webhook-body';
import { webhookAnswer } from './webhook-answer';
import { PaymentOutboxHandlers } from '../../lib/payment-outbox/contract';
import { documentClient } from '../shared/clients/dynamodb';
import { secretsManagerClient } from '../shared/clients/secrets-manager';
import { numberSetting, readConfig } from '../shared/config';
import { jsonResponse, MethodNotAllowedError } from '../shared/errors';
import { httpHandler } from '../shared/http-handler';
import { createLogger } from '../shared/logger';
import { parseJsonBody, validate } from '../shared/validation';

const contract = PaymentOutboxHandlers.webhook;
const config = readConfig(contract.environment);
const logger = createLogger(contract.serviceName);

const secretsProvider = new SecretsProvider({ awsSdkV3Client: secretsManagerClient });
const signingSecretArn = config.SIGNING_SECRET_ARN;
const secrets = new SigningSecretCache({
  // Cached for 5 minutes per container: one Secrets Manager call per container and period, not per request.
  fetch: async (force) => (await secretsProvider.get(signingSecretArn, { maxAge: 300, forceFetch: force })) as string | undefined,
  minRefetchIntervalMs: 30_000,
});
const toleranceSeconds = numberSetting('SIGNATURE_TOLERANCE_SECONDS', config.SIGNATURE_TOLERANCE_SECONDS, 1, 86_400);
const services: RecordServices = {
  db: documentClient,
  tableName: config.PAYMENTS_TABLE_NAME,
  outboxRetentionSeconds: numberSetting('OUTBOX_RETENTION_SECONDS', config.OUTBOX_RETENTION_SECONDS, 60, 400 * 86_400),
  now: () => new Date(),
};

/**
 * POST /v1.0/webhooks/payments: verify the signature over the raw body (401, nothing
 * parsed), validate (400), then record state + ledger + outbox in one transaction and
 * answer 200, also for ignored, refused and redelivered events (same answer as the first
 * time), so the provider stops retrying. A 409 asks the provider to retry: a payment
 * contended past the optimistic retries, or a refund whose payment has not succeeded yet.
 */
export const handler = httpHandler(logger, async ({ event, correlationId }) => {
  if (event.httpMethod !== 'POST') throw new MethodNotAllowedError();
  const rawBody = await verifyWebhookBody(event, { secrets, toleranceSeconds, now: new Date() });
  const body = validate(providerEventSchema, parseJsonBody(rawBody));
  const providerEvent = toProviderEvent(body);
  logger.appendKeys({ paymentId: providerEvent.paymentId, providerEventId: providerEvent.eventId });
  const { response, duplicate } = await recordProviderEvent(services, providerEvent);
  if (duplicate) logger.info('Redelivered provider event: answered as before, nothing written', { ...response });
  // A refused refund means the provider and this record disagree (e.g. refunds above the amount): someone must look.
  else if (response.outcome === 'refused') logger.error('Provider event refused', { ...response });
  else logger.info('Provider event recorded', { ...response });
  return jsonResponse(200, webhookAnswer(providerEvent, response), correlationId);
});
