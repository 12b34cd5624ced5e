import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { EnrollmentEvents, sagaFact } from './enrollment-events';
import { allocationId, purchaseId, purchaseKey, refundKey } from './enrollment-items';
import { SagaRejection, TransientError, type SagaInput, type SagaServices } from './saga-types';
import { SagaRejections } from '../../lib/enrollment-saga/contract';
import { cancellationCodes, isConditionFailure } from '../shared/dynamodb-conditions';

/**
 * Step 4. The purchase becomes ACTIVE (its completion time is kept from the first run),
 * unless the payment was fully refunded meanwhile (`PaymentRefunded`: compensation undoes
 * the saga), and the last two facts are returned: the plan's cache worker becomes a
 * `StudentCacheInvalidated` event users consume, then `EnrollmentCompleted`.
 */
export async function completeEnrollment(services: SagaServices, input: SagaInput) {
  const id = purchaseId(input.sagaId);
  try {
    await services.db.send(new TransactWriteCommand({
      TransactItems: [
        {
          Update: {
            TableName: services.tableName,
            Key: purchaseKey(id),
            UpdateExpression: 'SET #status = :active, completedAt = if_not_exists(completedAt, :now)',
            ConditionExpression: '#status IN (:created, :active)',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':active': 'ACTIVE', ':created': 'CREATED', ':now': services.now().toISOString() },
          },
        },
        // The refund consumer writes this record before it looks at the purchase: one of the two always sees the other.
        { ConditionCheck: { TableName: services.tableName, Key: refundKey(input.sagaId), ConditionExpression: 'attribute_not_exists(PK)' } },
      ],
    }));
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    const [purchaseCode, refundCode] = cancellationCodes(error);
    if (refundCode === 'ConditionalCheckFailed') {
      throw new SagaRejection(SagaRejections.PAYMENT_REFUNDED, `Payment ${input.paymentId} was refunded before its enrollment completed`);
    }
    if (purchaseCode === 'ConditionalCheckFailed') throw new Error(`Purchase ${id} is neither CREATED nor ACTIVE: it cannot complete`);
    throw new TransientError(`Purchase ${id}: transaction conflict, retry`);
  }
  const { Item: purchase } = await services.db.send(new GetCommand({ TableName: services.tableName, Key: purchaseKey(id), ConsistentRead: true }));
  const at = purchase!.completedAt as string;
  const base = { studentId: input.studentId, courseId: input.courseId };
  return {
    events: [
      sagaFact(input.sagaId, EnrollmentEvents.STUDENT_CACHE_INVALIDATED, at, base),
      sagaFact(input.sagaId, EnrollmentEvents.ENROLLMENT_COMPLETED, at, {
        ...base, purchaseId: id, allocationId: allocationId(input.sagaId), paymentId: input.paymentId,
      }),
    ],
  };
}
