import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { RefundDetail } from '../../functions/enrollment-saga/cancel-on-refund-logic';
import { courseKey, trainerKey } from '../../functions/enrollment-saga/enrollment-items';
import type { SagaInput, SagaServices, SessionPlan } from '../../functions/enrollment-saga/saga-types';
import { ENROLLMENT_TABLE_SCHEMA as S } from '../../lib/enrollment-saga/contract';
import { localClients, uniqueName } from '../harness/local-aws';
import { createLocalTable } from '../harness/local-table';

export const DEFAULT_PLAN: SessionPlan = { window: 4, total: 30, intervalDays: 7, time: '09:00' };
/** What every test course costs, and what sagaInput() pays, unless a test says otherwise. */
export const PRICE = { amount: 4200, currency: 'EUR' } as const;

/** The enrollment table on DynamoDB Local, built from the construct's schema, and services over it. */
export async function enrollmentTable(plan: SessionPlan = DEFAULT_PLAN, now: () => Date = () => new Date()) {
  const clients = localClients();
  const tableName = uniqueName('enrollment');
  await createLocalTable(clients.ddb, tableName, { partitionKey: S.partitionKey, sortKey: S.sortKey, indexes: [S.topUpIndex] });
  const services: SagaServices = { db: clients.doc, tableName, now, plan };
  const get = async (PK: string, SK: string) =>
    (await clients.doc.send(new GetCommand({ TableName: tableName, Key: { PK, SK }, ConsistentRead: true }))).Item;
  const query = async (PK: string, prefix: string) => (await clients.doc.send(new QueryCommand({
    TableName: tableName,
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :p)',
    ExpressionAttributeValues: { ':pk': PK, ':p': prefix },
    ConsistentRead: true,
  }))).Items ?? [];
  return {
    services,
    get,
    query,
    /** A course as users seed it (README): its price in minor units and its currency. */
    seedCourse: async (courseId: string, price: number = PRICE.amount, currency: string = PRICE.currency) => {
      await clients.doc.send(new PutCommand({ TableName: tableName, Item: { ...courseKey(courseId), courseId, price, currency } }));
    },
    /** Trainers as users seed them: capacity per course, nothing allocated; the course itself at PRICE unless `course: false`. */
    seedTrainers: async (courseId: string, capacities: number[], course = true) => {
      if (course) {
        const item = { ...courseKey(courseId), courseId, price: PRICE.amount, currency: PRICE.currency };
        await clients.doc.send(new PutCommand({ TableName: tableName, Item: item }));
      }
      for (const [i, capacity] of capacities.entries()) {
        await clients.doc.send(new PutCommand({ TableName: tableName, Item: { ...trainerKey(courseId, `trn_${i}`), trainerId: `trn_${i}`, courseId, capacity, allocated: 0 } }));
      }
    },
    trainers: (courseId: string) => query(`COURSE#${courseId}`, 'TRAINER#'),
    sessions: (sagaId: string) => query(`ALLOCATION#alc_${sagaId}`, 'SESSION#'),
  };
}

export function sagaInput(overrides: Partial<SagaInput> = {}): SagaInput {
  const paymentId = overrides.paymentId ?? `pay_${randomUUID()}`;
  return {
    sagaId: paymentId,
    eventId: randomUUID(),
    correlationId: paymentId,
    paymentId,
    studentId: `stu_${randomUUID().slice(0, 8)}`,
    courseId: 'crs_1',
    ...PRICE,
    ...overrides,
  };
}

/** PaymentOutbox's PaymentRefunded detail: the payment as it now stands, with the total refunded. */
export function paymentRefunded(
  input: Pick<SagaInput, 'paymentId' | 'studentId' | 'courseId'>,
  refundedAmount: number,
  options: { metadata?: boolean; source?: string } = {},
): RefundDetail {
  const source = options.source ?? 'cdk-event-services.payment-outbox';
  return {
    eventId: randomUUID(),
    eventType: 'PaymentRefunded',
    correlationId: input.paymentId,
    occurredAt: new Date().toISOString(),
    source,
    version: 1,
    payload: {
      paymentId: input.paymentId,
      status: 'refunded',
      amount: PRICE.amount,
      currency: PRICE.currency,
      refundedAmount,
      ...(options.metadata ?? true ? { metadata: { studentId: input.studentId, courseId: input.courseId } } : {}),
    },
  };
}
