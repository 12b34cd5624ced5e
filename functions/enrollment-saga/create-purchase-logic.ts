import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { EnrollmentEvents, sagaFact } from './enrollment-events';
import { activePurchaseGuard, courseKey, purchaseId, purchaseKey, refundKey } from './enrollment-items';
import { SagaRejection, TransientError, type SagaInput, type SagaServices } from './saga-types';
import { SagaRejections } from '../../lib/enrollment-saga/contract';
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
 * The paid amount against the course: an unseeded course (or one without a valid price) is
 * `CourseUnknown`; another amount or currency is `PaymentMismatch`. Prices are integers in
 * minor units, as payment amounts are; currencies compare case-insensitively.
 */
async function checkPayment({ db, tableName }: SagaServices, input: SagaInput): Promise<void> {
  const { Item: course } = await db.send(new GetCommand({ TableName: tableName, Key: courseKey(input.courseId), ConsistentRead: true }));
  const price = course?.price;
  if (!course || !Number.isInteger(price) || price < 0 || typeof course.currency !== 'string') {
    throw new SagaRejection(SagaRejections.COURSE_UNKNOWN, `Course ${input.courseId} is not seeded with a price and currency`);
  }
  if (price !== input.amount || course.currency.toUpperCase() !== input.currency.toUpperCase()) {
    throw new SagaRejection(SagaRejections.PAYMENT_MISMATCH,
      `Payment ${input.paymentId} of ${input.amount} ${input.currency} does not match course ${input.courseId} (${price} ${course.currency})`);
  }
}

/**
 * Step 1. The payment is checked against the course's price, then the purchase and the
 * (student, course) guard are written in one transaction, unless the payment was refunded
 * meanwhile: a re-run finds its purchase and answers as before; another saga's active
 * purchase of the same course is an `AlreadyEnrolled` rejection, a refund recorded before
 * is `PaymentRefunded`.
 */
export async function createPurchase(services: SagaServices, input: SagaInput) {
  const { db, tableName } = services;
  const id = purchaseId(input.sagaId);
  const read = async () => (await db.send(new GetCommand({ TableName: tableName, Key: purchaseKey(id), ConsistentRead: true }))).Item;
  const existing = await read();
  if (existing) return purchaseCreated(input, existing);
  await checkPayment(services, input);
  const item = {
    ...purchaseKey(id),
    recordType: 'PURCHASE',
    purchaseId: id,
    sagaId: input.sagaId,
    paymentId: input.paymentId,
    studentId: input.studentId,
    courseId: input.courseId,
    amount: input.amount,
    currency: input.currency,
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
        { ConditionCheck: { TableName: tableName, Key: refundKey(input.sagaId), ConditionExpression: 'attribute_not_exists(PK)' } },
      ],
    }));
    return purchaseCreated(input, item);
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    const raced = await read(); // a concurrent run of this step wrote it first
    if (raced) return purchaseCreated(input, raced);
    const codes = cancellationCodes(error);
    if (codes[2] === 'ConditionalCheckFailed') {
      throw new SagaRejection(SagaRejections.PAYMENT_REFUNDED, `Payment ${input.paymentId} was refunded before its enrollment was created`);
    }
    if (codes[1] !== 'ConditionalCheckFailed') throw new TransientError(`Purchase ${id}: transaction conflict, retry`);
    throw new SagaRejection(SagaRejections.ALREADY_ENROLLED, `Student ${input.studentId} already has an active purchase of course ${input.courseId}`);
  }
}
