import { parseReplayRequest, replayOutbox, type ReplayResult } from './replay-outbox-logic';
import { PaymentOutboxHandlers } from '../../lib/payment-outbox/contract';
import { documentClient } from '../shared/clients/dynamodb';
import { eventBridgeClient } from '../shared/clients/eventbridge';
import { readConfig } from '../shared/config';
import { EventBridgeSink } from '../shared/eventbridge-sink';
import { scheduledHandler } from '../shared/invocation-handler';
import { createLogger } from '../shared/logger';

const contract = PaymentOutboxHandlers.replay;
const config = readConfig(contract.environment);
const logger = createLogger(contract.serviceName);
const sinks = [new EventBridgeSink(eventBridgeClient, config.EVENT_BUS_NAME)];
const tableName = config.PAYMENTS_TABLE_NAME;

/**
 * Operator tool: `aws lambda invoke --payload '{"from":"…","to":"…"}'` re-publishes the
 * outbox events of that window with their original event ids. A bad request fails the
 * invocation with a message naming the field; a long window answers `complete: false`
 * with `resumeAfter`, to be passed back in the next invocation.
 */
export const handler = scheduledHandler<unknown, ReplayResult>(logger, async (event, context) => {
  const request = parseReplayRequest(event);
  logger.info('Replay requested', { ...request });
  const result = await replayOutbox(request, {
    db: documentClient,
    tableName,
    sinks,
    remainingTimeMs: () => context.getRemainingTimeInMillis(),
  });
  logger.info('Replay finished', { replayed: result.replayed, failed: result.failed.length, complete: result.complete, resumeAfter: result.resumeAfter });
  return result;
});
