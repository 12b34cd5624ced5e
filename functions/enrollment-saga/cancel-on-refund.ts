import { cancelOnRefund, refundDetailSchema, type RefundDetail } from './cancel-on-refund-logic';
import { listSetting, originRefusal, queuedEventSchema, sendToDeadLetterQueue } from './event-origin';
import { sinkPublisher } from './fact-publisher';
import { EnrollmentSagaEnv as E, EnrollmentSagaHandlers } from '../../lib/enrollment-saga/contract';
import { documentClient, dynamoDbClient } from '../shared/clients/dynamodb';
import { eventBridgeClient } from '../shared/clients/eventbridge';
import { sqsClient as sqs } from '../shared/clients/sqs';
import { readConfig } from '../shared/config';
import { EventBridgeSink } from '../shared/eventbridge-sink';
import { createEventIdempotency } from '../shared/idempotency';
import { createLogger } from '../shared/logger';
import { sqsBatchHandler } from '../shared/sqs-handler';
import { describeIssue, issuePath } from '../shared/validation';

const contract = EnrollmentSagaHandlers.cancelOnRefund;
const config = readConfig(contract.environment);
const logger = createLogger(contract.serviceName);
const services = { db: documentClient, tableName: config[E.TABLE_NAME], now: () => new Date() };
const publisher = sinkPublisher(new EventBridgeSink(eventBridgeClient, config[E.EVENT_BUS_NAME]));
const origin = { sources: listSetting(config[E.ACCEPTED_SOURCES]), accounts: listSetting(config[E.ACCEPTED_ACCOUNTS]) };
// Keyed on the refund's event id: concurrent deliveries of one refund run once (a duplicate in progress fails and comes back).
const idempotency = createEventIdempotency('cancel-on-refund', dynamoDbClient, config[E.IDEMPOTENCY_TABLE_NAME]);
const cancelOnce = idempotency.wrap(({ detail }: { eventId: string; detail: RefundDetail }) => cancelOnRefund(services, publisher, detail));

/**
 * PaymentRefunded events (queued by the rule) → a fully refunded payment's enrollment is
 * cancelled (see cancel-on-refund-logic.ts). A refund from another source or account, or
 * a malformed one, is logged and moved to the DLQ at once: a forged refund cancels nothing.
 */
export const handler = sqsBatchHandler(
  {
    logger,
    schema: queuedEventSchema,
    beforeBatch: (context) => idempotency.registerLambdaContext(context),
    envelopeOf: (event) => (event.detail && typeof event.detail === 'object' ? event.detail : {}) as any,
  },
  async (event, { record }) => {
    const refuse = async (reason: string) => {
      logger.error('Refund refused: nothing cancelled; moved to the DLQ', { reason, source: event.source, account: event.account });
      await sendToDeadLetterQueue(sqs, config[E.DEAD_LETTER_QUEUE_URL], record.body, reason);
      return { refused: reason };
    };
    const foreign = originRefusal(event, origin);
    if (foreign) return refuse(`foreign event: ${foreign}`);
    const parsed = (refundDetailSchema as any)['~standard'].validate(event.detail) as { value?: any; issues?: ReadonlyArray<any> };
    if (parsed.issues?.length) return refuse(`invalid detail at '${issuePath(parsed.issues[0])}': ${describeIssue(parsed.issues[0])}`);
    const result = await cancelOnce({ eventId: parsed.value.eventId, detail: parsed.value });
    const detail = { ...result, paymentId: parsed.value.payload.paymentId };
    if (result.outcome === 'unknown-payment') logger.warn('Refund of a payment with no enrollment: nothing to cancel', detail);
    else logger.info(`Refund handled: ${result.outcome}`, detail);
    return result;
  },
);
