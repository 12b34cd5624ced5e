import { listSetting, queuedEventSchema, sendToDeadLetterQueue } from './event-origin';
import { startSaga } from './start-saga-logic';
import { EnrollmentSagaEnv as E, EnrollmentSagaHandlers } from '../../lib/enrollment-saga/contract';
import { sfnClient } from '../shared/clients/sfn';
import { sqsClient as sqs } from '../shared/clients/sqs';
import { readConfig } from '../shared/config';
import { createLogger } from '../shared/logger';
import { sqsBatchHandler } from '../shared/sqs-handler';

const contract = EnrollmentSagaHandlers.starter;
const config = readConfig(contract.environment);
const logger = createLogger(contract.serviceName);
const services = {
  sfn: sfnClient,
  stateMachineArn: config[E.STATE_MACHINE_ARN],
  origin: { sources: listSetting(config[E.ACCEPTED_SOURCES]), accounts: listSetting(config[E.ACCEPTED_ACCOUNTS]) },
};

/**
 * The saga starter: trigger events (queued by the rule) → one execution each. An event
 * that can never start a saga (another source or account than the accepted ones, a
 * malformed or incomplete detail) is logged and moved to the DLQ at once; a failure to
 * start (throttling) fails the record alone, and SQS delivers it again.
 */
export const handler = sqsBatchHandler(
  { logger, schema: queuedEventSchema, envelopeOf: (event) => (event.detail && typeof event.detail === 'object' ? event.detail : {}) as any },
  async (event, { record }) => {
    const result = await startSaga(services, event);
    if ('refused' in result) {
      logger.error('Trigger refused: no saga started; moved to the DLQ', { reason: result.refused, source: event.source, account: event.account });
      await sendToDeadLetterQueue(sqs, config[E.DEAD_LETTER_QUEUE_URL], record.body, result.refused);
      return result;
    }
    logger.info(result.started ? 'Saga started' : 'Saga already started for this event', { ...result });
    return result;
  },
);
