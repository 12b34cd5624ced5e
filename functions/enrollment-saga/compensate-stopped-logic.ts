import { GetCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { compensate, failureRecord } from './compensate-logic';
import { failureKey, purchaseId, purchaseKey } from './enrollment-items';
import { announceOnce, type FactPublisher } from './fact-publisher';
import { compensationInputSchema } from './saga-input-schema';
import type { TableServices } from './saga-types';
import { StoppedExecutionErrors } from '../../lib/enrollment-saga/contract';
import { validate } from '../shared/validation';

/**
 * A "Step Functions Execution Status Change" event for a stopped execution, as the rule
 * delivers it to SQS. `input` is the execution's input (the saga input), as a JSON string.
 */
export const stoppedExecutionSchema = z.looseObject({
  /** EventBridge's id of the event: a duplicate delivery carries the same. */
  id: z.string().check(z.minLength(1), z.maxLength(128)),
  source: z.literal('aws.states'),
  detail: z.looseObject({
    executionArn: z.string().check(z.minLength(1)),
    stateMachineArn: z.string().check(z.minLength(1)),
    status: z.enum(['TIMED_OUT', 'ABORTED', 'FAILED']),
    input: z.string().check(z.minLength(2)),
  }),
});
export type StoppedExecution = z.infer<typeof stoppedExecutionSchema>;

export type StoppedOutcome = 'compensated' | 'kept-completed' | 'already-compensated' | 'other-state-machine';

/**
 * A timed-out or aborted execution skipped its Catch: the seat, the purchase and the guards
 * it took are still held. The same idempotent compensation runs here (reason SAGA_TIMED_OUT
 * or SAGA_ABORTED, unless an earlier compensation recorded another) and `EnrollmentFailed`
 * is put on the bus once (the state machine may have put the identical fact, same event
 * id, before it stopped). A failed execution is compensated here only if its own
 * compensation did not finish (it ended in CompensationFailed): the queue's retries, and
 * its DLQ's redrive once the cause is fixed, run it again. A completed enrollment is kept,
 * as in the state machine.
 */
export async function compensateStopped(
  services: TableServices, publisher: FactPublisher, stateMachineArn: string, event: StoppedExecution,
): Promise<{ outcome: StoppedOutcome; executionArn: string; failedEventId?: string }> {
  const { detail } = event;
  if (detail.stateMachineArn !== stateMachineArn) return { outcome: 'other-state-machine', executionArn: detail.executionArn };
  const input = validate(compensationInputSchema, JSON.parse(detail.input), 'execution input');
  if (detail.status === 'FAILED') {
    const purchase = (await services.db.send(new GetCommand({
      TableName: services.tableName, Key: purchaseKey(purchaseId(input.sagaId)), ConsistentRead: true,
    }))).Item;
    if (purchase?.completedAt) return { outcome: 'kept-completed', executionArn: detail.executionArn };
    if ((await failureRecord(services, input.sagaId))?.compensatedAt) return { outcome: 'already-compensated', executionArn: detail.executionArn };
  }
  const error = {
    Error: detail.status === 'TIMED_OUT' ? StoppedExecutionErrors.TIMED_OUT
      : detail.status === 'ABORTED' ? StoppedExecutionErrors.ABORTED : 'CompensationFailed',
    Cause: `Execution ${detail.executionArn} ${detail.status}`,
  };
  const result = await compensate(services, { ...input, error });
  if (result.alreadyCompleted || !result.event) return { outcome: 'kept-completed', executionArn: detail.executionArn };
  await announceOnce(services, publisher, failureKey(input.sagaId), result.event);
  return { outcome: 'compensated', executionArn: detail.executionArn, failedEventId: result.event.eventId };
}
