import { GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { EnrollmentEvents, sagaFact } from './enrollment-events';
import { activeAllocationGuard, activePurchaseGuard, allocationId, allocationKey, failureKey, purchaseId, purchaseKey, trainerKey } from './enrollment-items';
import type { SagaInput, TableServices } from './saga-types';
import { sessionsOf } from './session-window';
import { FailureReasons, SagaRejections, StoppedExecutionErrors, type FailureReason } from '../../lib/enrollment-saga/contract';
import { isConditionFailure } from '../shared/dynamodb-conditions';

export type { FailureReason };

/** What Step Functions' Catch puts at `$.error` (or the stopped-execution consumer gives). */
export interface CaughtError {
  readonly Error?: string;
  readonly Cause?: string;
}

/** The saga's ids: what compensation needs to find its items. */
export type SagaKeys = Pick<SagaInput, 'sagaId' | 'studentId' | 'courseId'>;

const REASON_OF: Record<string, FailureReason> = {
  [SagaRejections.ALREADY_ENROLLED]: FailureReasons.ALREADY_ENROLLED,
  [SagaRejections.NO_TRAINER_AVAILABLE]: FailureReasons.NO_TRAINER_AVAILABLE,
  [SagaRejections.COURSE_UNKNOWN]: FailureReasons.COURSE_UNKNOWN,
  [SagaRejections.PAYMENT_MISMATCH]: FailureReasons.PAYMENT_MISMATCH,
  [SagaRejections.PAYMENT_REFUNDED]: FailureReasons.PAYMENT_REFUNDED,
  [StoppedExecutionErrors.TIMED_OUT]: FailureReasons.SAGA_TIMED_OUT,
  [StoppedExecutionErrors.ABORTED]: FailureReasons.SAGA_ABORTED,
};

export function failureReason(error: CaughtError | undefined): FailureReason {
  return REASON_OF[error?.Error ?? ''] ?? FailureReasons.STEP_FAILED;
}

const get = async (services: TableServices, key: Record<string, string>) =>
  (await services.db.send(new GetCommand({ TableName: services.tableName, Key: key, ConsistentRead: true }))).Item;

/**
 * Frees the trainer seat once: allocation RELEASED, seat count down, guard gone, in one
 * transaction; then the allocation's sessions (those starting after `sessionsAfter`, all
 * by default) are CANCELLED, not deleted, so the history stays readable. The sessions are
 * cancelled on every run while the allocation is RELEASED, so a crash between the two
 * writes is finished by the next run. Returns whether this run freed the seat.
 */
export async function releaseSeat(services: TableServices, keys: SagaKeys, sessionsAfter?: Date): Promise<boolean> {
  const id = allocationId(keys.sagaId);
  const allocation = await get(services, allocationKey(id));
  if (!allocation) return false;
  let released = false;
  if (allocation.status === 'ACTIVE') {
    try {
      await services.db.send(new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: services.tableName,
              Key: allocationKey(id),
              UpdateExpression: 'SET #status = :released REMOVE TOPUP_PK, TOPUP_SK',
              ConditionExpression: '#status = :active',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: { ':released': 'RELEASED', ':active': 'ACTIVE' },
            },
          },
          {
            Update: {
              TableName: services.tableName,
              Key: trainerKey(keys.courseId, allocation.trainerId),
              UpdateExpression: 'SET allocated = allocated - :one',
              ConditionExpression: 'allocated >= :one',
              ExpressionAttributeValues: { ':one': 1 },
            },
          },
          {
            Delete: {
              TableName: services.tableName,
              Key: activeAllocationGuard(keys.studentId, keys.courseId),
              ConditionExpression: 'allocationId = :id',
              ExpressionAttributeValues: { ':id': id },
            },
          },
        ],
      }));
      released = true;
    } catch (error) {
      if (!isConditionFailure(error)) throw error; // a concurrent compensation released it
    }
  }
  // The student will not attend: the sessions still to come are cancelled.
  const after = sessionsAfter?.toISOString();
  for (const session of await sessionsOf(services, id)) {
    if (session.status === 'CANCELLED') continue;
    if (after && `${session.date}T${session.time}:00.000Z` <= after) continue;
    await services.db.send(new UpdateCommand({
      TableName: services.tableName,
      Key: { PK: session.PK, SK: session.SK },
      UpdateExpression: 'SET #status = :cancelled',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':cancelled': 'CANCELLED' },
    }));
  }
  return released;
}

/**
 * Cancels this saga's purchase once and frees the (student, course) guard; `reason` is
 * kept on the purchase (a refund cancelling a completed enrollment). Returns whether this
 * run cancelled it.
 */
export async function cancelPurchase(services: TableServices, keys: SagaKeys, reason?: FailureReason): Promise<boolean> {
  const id = purchaseId(keys.sagaId);
  const purchase = await get(services, purchaseKey(id));
  if (!purchase || purchase.status === 'CANCELLED') return false;
  try {
    await services.db.send(new TransactWriteCommand({
      TransactItems: [
        {
          Update: {
            TableName: services.tableName,
            Key: purchaseKey(id),
            UpdateExpression: `SET #status = :cancelled, cancelledAt = :now${reason ? ', cancelReason = :reason' : ''}`,
            ConditionExpression: '#status <> :cancelled',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':cancelled': 'CANCELLED', ':now': services.now().toISOString(), ...(reason ? { ':reason': reason } : {}),
            },
          },
        },
        {
          Delete: {
            TableName: services.tableName,
            Key: activePurchaseGuard(keys.studentId, keys.courseId),
            ConditionExpression: 'purchaseId = :id',
            ExpressionAttributeValues: { ':id': id },
          },
        },
      ],
    }));
    return true;
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    return false;
  }
}

/** The saga's compensation record, if compensation ever started. */
export const failureRecord = (services: TableServices, sagaId: string) => get(services, failureKey(sagaId));

/** The first compensation's record: its time and reason make the EnrollmentFailed event stable. */
async function recordFailure(services: TableServices, sagaId: string, reason: FailureReason): Promise<{ failedAt: string; reason: FailureReason }> {
  const key = failureKey(sagaId);
  const failure = { ...key, recordType: 'FAILURE', reason, failedAt: services.now().toISOString() };
  try {
    await services.db.send(new PutCommand({ TableName: services.tableName, Item: failure, ConditionExpression: 'attribute_not_exists(PK)' }));
    return failure;
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    const first = (await get(services, key))!;
    return { failedAt: first.failedAt, reason: first.reason };
  }
}

/**
 * Compensation, in reverse order of the steps: free the seat, then cancel the purchase.
 * The state machine emits the returned EnrollmentFailed event unless `alreadyCompleted`.
 * Each undo is one conditional transaction, so running compensation twice undoes once.
 * An `AlreadyEnrolled` rejection took nothing of another saga's: only this saga's items
 * are ever touched (keys derive from the saga id, guards are deleted only if they name it).
 */
export async function compensate(services: TableServices, input: SagaInput & { error?: CaughtError }) {
  // A completed enrollment is never undone here: the failure came after completion (its
  // facts could not be put on the bus) or from a second execution for the same payment. A
  // completed enrollment keeps `completedAt` even once a refund has cancelled it.
  if ((await get(services, purchaseKey(purchaseId(input.sagaId))))?.completedAt) {
    return { alreadyCompleted: true, reason: failureReason(input.error), releasedSeat: false, cancelledPurchase: false };
  }
  const failure = await recordFailure(services, input.sagaId, failureReason(input.error));
  const releasedSeat = await releaseSeat(services, input);
  const cancelledPurchase = await cancelPurchase(services, input);
  // Done: a failed execution's status change finds this and leaves the saga alone.
  await services.db.send(new UpdateCommand({
    TableName: services.tableName,
    Key: failureKey(input.sagaId),
    UpdateExpression: 'SET compensatedAt = if_not_exists(compensatedAt, :now)',
    ExpressionAttributeValues: { ':now': services.now().toISOString() },
  }));
  return {
    alreadyCompleted: false,
    reason: failure.reason,
    releasedSeat,
    cancelledPurchase,
    event: sagaFact(input.sagaId, EnrollmentEvents.ENROLLMENT_FAILED, failure.failedAt, {
      reason: failure.reason, studentId: input.studentId, courseId: input.courseId, paymentId: input.paymentId,
    }),
  };
}
