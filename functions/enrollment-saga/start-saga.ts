import { startSaga, triggerEventSchema } from './start-saga-logic';
import { sfnClient } from '../shared/clients/sfn';
import { createLogger } from '../shared/logger';
import { sqsBatchHandler } from '../shared/sqs-handler';

const logger = createLogger('enrollment-saga-starter');
const services = { sfn: sfnClient, stateMachineArn: process.env.STATE_MACHINE_ARN ?? '' };

/**
 * The saga starter: PaymentSucceeded events (queued by the rule) → one execution each.
 * A record that cannot start a saga fails alone and, after the queue's receives, waits
 * in the DLQ.
 */
export const handler = sqsBatchHandler(
  { logger, schema: triggerEventSchema, envelopeOf: (event) => event.detail },
  async (event) => {
    const result = await startSaga(services, event);
    logger.info(result.started ? 'Saga started' : 'Saga already started for this event', { ...result });
    return result;
  },
);
