import { randomUUID } from 'node:crypto';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { trainerKey } from '../../functions/enrollment-saga/enrollment-items';
import type { SagaInput, SagaServices, SessionPlan } from '../../functions/enrollment-saga/saga-types';
import { ENROLLMENT_TABLE_SCHEMA as S } from '../../lib/enrollment-saga/enrollment-table-schema';
import { localClients, uniqueName } from '../harness/local-aws';

export const DEFAULT_PLAN: SessionPlan = { window: 4, total: 30, intervalDays: 7, time: '09:00' };

/** The enrollment table on DynamoDB Local, built from the construct's schema, and services over it. */
export async function enrollmentTable(plan: SessionPlan = DEFAULT_PLAN, now: () => Date = () => new Date()) {
  const clients = localClients();
  const tableName = uniqueName('enrollment');
  const attr = (name: string) => ({ AttributeName: name, AttributeType: 'S' as const });
  await clients.ddb.send(new CreateTableCommand({
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [attr(S.partitionKey), attr(S.sortKey), attr(S.topUpIndex.partitionKey), attr(S.topUpIndex.sortKey)],
    KeySchema: [{ AttributeName: S.partitionKey, KeyType: 'HASH' }, { AttributeName: S.sortKey, KeyType: 'RANGE' }],
    GlobalSecondaryIndexes: [{
      IndexName: S.topUpIndex.indexName,
      KeySchema: [{ AttributeName: S.topUpIndex.partitionKey, KeyType: 'HASH' }, { AttributeName: S.topUpIndex.sortKey, KeyType: 'RANGE' }],
      Projection: { ProjectionType: 'ALL' },
    }],
  }));
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
