import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { EnrollmentEvents, sagaFact } from './enrollment-events';
import { activePurchaseGuard, purchaseId, purchaseKey } from './enrollment-items';
import { SagaRejection, TransientError, type SagaInput, type SagaServices } from './saga-types';
import { cancellationCodes, isConditionFailure } from '../shared/dynamodb-conditions';

function purchaseCreated(input: SagaInput, item: Record<string, any>) {
  return {
    purchaseId: item.purchaseId as string,
    status: item.status as string,
    createdAt: item.createdAt as string,
    event: sagaFact(input.sagaId, EnrollmentEvents.PURCHASE_CREATED, item.createdAt, {
      purchaseId: item.purchaseId, studentId: input.studentId, courseId: input.courseId, paymentId: input.paymentId,
    }),
  };
}

/**
 * Step 1. The purchase and the (student, course) guard are written in one transaction:
 * a re-run finds its purchase and answers as before; another saga's active purchase of
 * the same course is an `AlreadyEnrolled` rejection.
 */
export async function createPurchase(services: SagaServices, input: SagaInput) {
  const { db, tableName } = services;
  const id = purchaseId(input.sagaId);
  const read = async () => (await db.send(new GetCommand({ TableName: tableName, Key: purchaseKey(id), ConsistentRead: true }))).Item;
  const existing = await read();
  if (existing) return purchaseCreated(input, existing);
  const item = {
    ...purchaseKey(id),
    recordType: 'PURCHASE',
    purchaseId: id,
    sagaId: input.sagaId,
    paymentId: input.paymentId,
    studentId: input.studentId,
    courseId: input.courseId,
    status: 'CREATED',
    createdAt: services.now().toISOString(),
  };
  try {
    await db.send(new TransactWriteCommand({
      TransactItems: [
        { Put: { TableName: tableName, Item: item, ConditionExpression: 'attribute_not_exists(PK)' } },
        {
          Put: {
            TableName: tableName,
            Item: { ...activePurchaseGuard(input.studentId, input.courseId), purchaseId: id },
            ConditionExpression: 'attribute_not_exists(PK) OR purchaseId = :id',
            ExpressionAttributeValues: { ':id': id },
          },
        },
      ],
    }));
    return purchaseCreated(input, item);
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    const raced = await read(); // a concurrent run of this step wrote it first
    if (raced) return purchaseCreated(input, raced);
    if (cancellationCodes(error)[1] !== 'ConditionalCheckFailed') throw new TransientError(`Purchase ${id}: transaction conflict, retry`);
    throw new SagaRejection('AlreadyEnrolled', `Student ${input.studentId} already has an active purchase of course ${input.courseId}`);
  }
}
