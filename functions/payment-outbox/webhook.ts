import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { toProviderEvent, providerEventSchema } from './provider-event-schema';
import { recordProviderEvent, type RecordServices } from './record-provider-event';
import { SigningSecretCache } from './signing-secrets';
import { verifyWebhookBody } from './verify-webhook-body';
import { webhookAnswer } from './webhook-answer';
import { documentClient } from '../shared/clients/dynamodb';
import { secretsManagerClient } from '../shared/clients/secrets-manager';
import { jsonResponse, MethodNotAllowedError } from '../shared/errors';
import { httpHandler } from '../shared/http-handler';
import { createLogger } from '../shared/logger';
import { parseJsonBody, validate } from '../shared/validation';

const logger = createLogger('payment-outbox-webhook');
const numberFromEnv = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

const secretsProvider = new SecretsProvider({ awsSdkV3Client: secretsManagerClient });
const signingSecretArn = process.env.SIGNING_SECRET_ARN ?? '';
const secrets = new SigningSecretCache({
  // Cached for 5 minutes per container: one Secrets Manager call per container and period, not per request.
  fetch: async (force) => (await secretsProvider.get(signingSecretArn, { maxAge: 300, forceFetch: force })) as string | undefined,
  minRefetchIntervalMs: 30_000,
});
const toleranceSeconds = numberFromEnv('SIGNATURE_TOLERANCE_SECONDS', 300);
const services: RecordServices = {
  db: documentClient,
  tableName: process.env.PAYMENTS_TABLE_NAME ?? '',
  outboxRetentionSeconds: numberFromEnv('OUTBOX_RETENTION_SECONDS', 7 * 24 * 3600),
  now: () => new Date(),
};

/**
 * POST /v1.0/webhooks/payments: verify the signature over the raw body (401, nothing
 * parsed), validate (400), then record state + ledger + outbox in one transaction and
 * answer 200, also for ignored and redelivered events (same answer as the first time), so
 * the provider stops retrying. A 409 asks the provider to retry a contended payment.
 */
export const handler = httpHandler(logger, async ({ event, correlationId }) => {
  if (event.httpMethod !== 'POST') throw new MethodNotAllowedError();
  const rawBody = await verifyWebhookBody(event, { secrets, toleranceSeconds, now: new Date() });
  const body = validate(providerEventSchema, parseJsonBody(rawBody));
  const providerEvent = toProviderEvent(body);
  logger.appendKeys({ paymentId: providerEvent.paymentId, providerEventId: providerEvent.eventId });
  const { response, duplicate } = await recordProviderEvent(services, providerEvent);
  logger.info(duplicate ? 'Redelivered provider event: answered as before, nothing written' : 'Provider event recorded', { ...response });
  return jsonResponse(200, webhookAnswer(providerEvent, response), correlationId);
});
