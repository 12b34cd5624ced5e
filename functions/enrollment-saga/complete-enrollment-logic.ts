import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { EnrollmentEvents, sagaFact } from './enrollment-events';
import { allocationId, purchaseId, purchaseKey } from './enrollment-items';
import type { SagaInput, SagaServices } from './saga-types';

/**
 * Step 4. The purchase becomes ACTIVE (its completion time is kept from the first run) and
 * the last two facts are returned: the plan's cache worker becomes a
 * `StudentCacheInvalidated` event users consume, then `EnrollmentCompleted`.
 */
export async function completeEnrollment(services: SagaServices, input: SagaInput) {
  const id = purchaseId(input.sagaId);
  const { Attributes: purchase } = await services.db.send(new UpdateCommand({
    TableName: services.tableName,
    Key: purchaseKey(id),
    UpdateExpression: 'SET #status = :active, completedAt = if_not_exists(completedAt, :now)',
    ConditionExpression: '#status IN (:created, :active)',
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: { ':active': 'ACTIVE', ':created': 'CREATED', ':now': services.now().toISOString() },
    ReturnValues: 'ALL_NEW',
  }));
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
