import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { trainerKey } from '../../functions/enrollment-saga/enrollment-items';
import type { SagaInput, SagaServices, SessionPlan } from '../../functions/enrollment-saga/saga-types';
import { ENROLLMENT_TABLE_SCHEMA as S } from '../../lib/enrollment-saga/enrollment-table-schema';
import { localClients, uniqueName } from '../harness/local-aws';
import { createLocalTable } from '../harness/local-table';

export const DEFAULT_PLAN: SessionPlan = { window: 4, total: 30, intervalDays: 7, time: '09:00' };

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
    /** Trainers as users seed them: capacity per course, nothing allocated. */
    seedTrainers: async (courseId: string, capacities: number[]) => {
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
    ...overrides,
  };
}
