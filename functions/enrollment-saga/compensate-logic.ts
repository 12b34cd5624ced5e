import { GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { EnrollmentEvents, sagaFact } from './enrollment-events';
import { activeAllocationGuard, activePurchaseGuard, allocationId, allocationKey, purchaseId, purchaseKey, trainerKey } from './enrollment-items';
import type { SagaInput, SagaServices } from './saga-types';
import { sessionsOf } from './session-window';
import { isConditionFailure } from '../shared/dynamodb-conditions';

export type FailureReason = 'ALREADY_ENROLLED' | 'NO_TRAINER_AVAILABLE' | 'STEP_FAILED';

/** What Step Functions' Catch puts at `$.error`. */
export interface CaughtError {
  readonly Error?: string;
  readonly Cause?: string;
}

export function failureReason(error: CaughtError | undefined): FailureReason {
  if (error?.Error === 'AlreadyEnrolled') return 'ALREADY_ENROLLED';
  if (error?.Error === 'NoTrainerAvailable') return 'NO_TRAINER_AVAILABLE';
  return 'STEP_FAILED';
}

const get = async (services: SagaServices, key: Record<string, string>) =>
  (await services.db.send(new GetCommand({ TableName: services.tableName, Key: key, ConsistentRead: true }))).Item;

/** Frees the trainer seat once: allocation RELEASED, seat count down, guard gone, in one transaction. */
async function releaseSeat(services: SagaServices, input: SagaInput): Promise<boolean> {
  const id = allocationId(input.sagaId);
  const allocation = await get(services, allocationKey(id));
  if (allocation?.status !== 'ACTIVE') return false;
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
            Key: trainerKey(input.courseId, allocation.trainerId),
            UpdateExpression: 'SET allocated = allocated - :one',
            ConditionExpression: 'allocated >= :one',
            ExpressionAttributeValues: { ':one': 1 },
          },
        },
        {
          Delete: {
            TableName: services.tableName,
            Key: activeAllocationGuard(input.studentId, input.courseId),
            ConditionExpression: 'allocationId = :id',
            ExpressionAttributeValues: { ':id': id },
          },
        },
      ],
    }));
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    return false; // a concurrent compensation released it
  }
  // The student will not attend: sessions already scheduled are cancelled, not deleted, so the history stays readable.
  for (const session of await sessionsOf(services, id)) {
    if (session.status === 'CANCELLED') continue;
    await services.db.send(new UpdateCommand({
      TableName: services.tableName,
      Key: { PK: session.PK, SK: session.SK },
      UpdateExpression: 'SET #status = :cancelled',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':cancelled': 'CANCELLED' },
    }));
  }
  return true;
}

/** Cancels this saga's purchase once and frees the (student, course) guard. */
async function cancelPurchase(services: SagaServices, input: SagaInput): Promise<boolean> {
  const id = purchaseId(input.sagaId);
  const purchase = await get(services, purchaseKey(id));
  if (!purchase || purchase.status === 'CANCELLED') return false;
  try {
    await services.db.send(new TransactWriteCommand({
      TransactItems: [
        {
          Update: {
            TableName: services.tableName,
            Key: purchaseKey(id),
            UpdateExpression: 'SET #status = :cancelled',
            ConditionExpression: '#status <> :cancelled',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':cancelled': 'CANCELLED' },
          },
        },
        {
          Delete: {
            TableName: services.tableName,
            Key: activePurchaseGuard(input.studentId, input.courseId),
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

/** The first compensation's record: its time and reason make the EnrollmentFailed event stable. */
async function recordFailure(services: SagaServices, input: SagaInput, reason: FailureReason): Promise<{ failedAt: string; reason: FailureReason }> {
  const key = { PK: `SAGA#${input.sagaId}`, SK: 'FAILURE' };
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
export async function compensate(services: SagaServices, input: SagaInput & { error?: CaughtError }) {
  // A completed enrollment is never undone: the failure came after completion (its facts
  // could not be put on the bus) or from a second execution for the same payment.
  if ((await get(services, purchaseKey(purchaseId(input.sagaId))))?.status === 'ACTIVE') {
    return { alreadyCompleted: true, reason: failureReason(input.error), releasedSeat: false, cancelledPurchase: false };
  }
  const failure = await recordFailure(services, input, failureReason(input.error));
  const releasedSeat = await releaseSeat(services, input);
  const cancelledPurchase = await cancelPurchase(services, input);
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
