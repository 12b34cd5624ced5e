import { compensateStopped, stoppedExecutionSchema, type StoppedExecution } from './compensate-stopped-logic';
import { sinkPublisher } from './fact-publisher';
import { EnrollmentSagaEnv as E, EnrollmentSagaHandlers } from '../../lib/enrollment-saga/contract';
import { documentClient, dynamoDbClient } from '../shared/clients/dynamodb';
import { eventBridgeClient } from '../shared/clients/eventbridge';
import { readConfig } from '../shared/config';
import { EventBridgeSink } from '../shared/eventbridge-sink';
import { createEventIdempotency } from '../shared/idempotency';
import { createLogger } from '../shared/logger';
import { sqsBatchHandler } from '../shared/sqs-handler';

const contract = EnrollmentSagaHandlers.compensateStopped;
const config = readConfig(contract.environment);
const logger = createLogger(contract.serviceName);
const services = { db: documentClient, tableName: config[E.TABLE_NAME], now: () => new Date() };
const publisher = sinkPublisher(new EventBridgeSink(eventBridgeClient, config[E.EVENT_BUS_NAME]));
// Keyed on the status-change event's own id: concurrent deliveries of one event run once.
const idempotency = createEventIdempotency('compensate-stopped', dynamoDbClient, config[E.IDEMPOTENCY_TABLE_NAME]);
const compensateOnce = idempotency.wrap(({ event }: { eventId: string; event: StoppedExecution }) =>
  compensateStopped(services, publisher, config[E.STATE_MACHINE_ARN], event));

/**
 * Timed-out and aborted executions (status-change events queued by the rule) → the same
 * idempotent compensation the state machine's Catch runs, and EnrollmentFailed once.
 */
export const handler = sqsBatchHandler(
  {
    logger,
    schema: stoppedExecutionSchema,
    beforeBatch: (context) => idempotency.registerLambdaContext(context),
    // The status-change event carries no library envelope: its execution ARN correlates the logs.
    envelopeOf: (event) => ({ correlationId: event.detail.executionArn.split(':').pop() }) as any,
  },
  async (event) => {
    const result = await compensateOnce({ eventId: event.id, event });
    logger.warn(`Stopped execution (${event.detail.status}): ${result.outcome}`, { ...result });
    return result;
  },
);
