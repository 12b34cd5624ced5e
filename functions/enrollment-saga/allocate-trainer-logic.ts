import { GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { EnrollmentEvents, sagaFact } from './enrollment-events';
import { activeAllocationGuard, allocationId, allocationKey, purchaseId, TOPUP_ACTIVE, trainerKey, trainersOfCourse } from './enrollment-items';
import { SagaRejection, TransientError, type SagaInput, type SagaServices } from './saga-types';
import { SagaRejections } from '../../lib/enrollment-saga/contract';
import { cancellationCodes, isConditionFailure } from '../shared/dynamodb-conditions';

// Seat races are lost when many sagas want one course at once; each loss re-reads.
const MAX_ATTEMPTS = 8;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function trainerAllocated(input: SagaInput, item: Record<string, any>) {
  return {
    allocationId: item.allocationId as string,
    trainerId: item.trainerId as string,
    startDate: item.startDate as string,
    event: sagaFact(input.sagaId, EnrollmentEvents.TRAINER_ALLOCATED, item.createdAt, {
      allocationId: item.allocationId,
      trainerId: item.trainerId,
      studentId: input.studentId,
      courseId: input.courseId,
      sessionCount: item.totalSessions,
      startDate: item.startDate,
    }),
  };
}

/** The course's trainers with a free seat: the first Query page that has any (a course may have more trainers than one page holds). */
async function freeTrainers({ db, tableName }: SagaServices, courseId: string): Promise<Array<Record<string, any>>> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db.send(new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: 'PK = :course AND begins_with(SK, :trainer)',
      ExpressionAttributeValues: { ':course': trainersOfCourse(courseId), ':trainer': 'TRAINER#' },
      ConsistentRead: true,
      ExclusiveStartKey: startKey,
    }));
    const free = (page.Items ?? []).filter((t) => Number(t.allocated ?? 0) < Number(t.capacity ?? 0));
    if (free.length > 0) return free;
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return [];
}

/**
 * Step 2. Takes one seat of a trainer of the course with free capacity, atomically with
 * the allocation and its (student, course) guard: the seat count can never pass the
 * capacity, and a re-run finds its allocation instead of taking a second seat.
 */
export async function allocateTrainer(services: SagaServices, input: SagaInput) {
  const { db, tableName } = services;
  const id = allocationId(input.sagaId);
  const read = async () => (await db.send(new GetCommand({ TableName: tableName, Key: allocationKey(id), ConsistentRead: true }))).Item;
  const existing = await read();
  if (existing) return trainerAllocated(input, existing);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const free = await freeTrainers(services, input.courseId);
    if (free.length === 0) throw new SagaRejection(SagaRejections.NO_TRAINER_AVAILABLE, `No trainer of course ${input.courseId} has a free seat`);
    const trainer = free[Math.floor(Math.random() * free.length)]; // random spreads concurrent sagas over trainers
    const now = services.now();
    const item = {
      ...allocationKey(id),
      recordType: 'ALLOCATION',
      allocationId: id,
      sagaId: input.sagaId,
      purchaseId: purchaseId(input.sagaId),
      trainerId: trainer.trainerId,
      studentId: input.studentId,
      courseId: input.courseId,
      status: 'ACTIVE',
      startDate: new Date(now.getTime() + 86_400_000).toISOString().slice(0, 10),
      totalSessions: services.plan.total,
      createdAt: now.toISOString(),
      TOPUP_PK: TOPUP_ACTIVE,
      TOPUP_SK: id,
    };
    try {
      await db.send(new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: tableName,
              Key: trainerKey(input.courseId, trainer.trainerId),
              UpdateExpression: 'SET allocated = if_not_exists(allocated, :zero) + :one',
              // (if_not_exists is not allowed in conditions)
              ConditionExpression: '(attribute_not_exists(allocated) AND #capacity > :zero) OR allocated < #capacity',
              ExpressionAttributeNames: { '#capacity': 'capacity' }, // a reserved word
              ExpressionAttributeValues: { ':zero': 0, ':one': 1 },
            },
          },
          { Put: { TableName: tableName, Item: item, ConditionExpression: 'attribute_not_exists(PK)' } },
          {
            Put: {
              TableName: tableName,
              Item: { ...activeAllocationGuard(input.studentId, input.courseId), allocationId: id },
              ConditionExpression: 'attribute_not_exists(PK) OR allocationId = :id',
              ExpressionAttributeValues: { ':id': id },
            },
          },
        ],
      }));
      return trainerAllocated(input, item);
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const raced = await read();
      if (raced) return trainerAllocated(input, raced);
      if (cancellationCodes(error)[2] === 'ConditionalCheckFailed') {
        throw new SagaRejection(SagaRejections.ALREADY_ENROLLED, `Student ${input.studentId} already has an active allocation for course ${input.courseId}`);
      }
      await sleep(Math.random() * 20 * 2 ** attempt); // lost the seat or a conflict: re-read and try again
    }
  }
  throw new TransientError(`Allocation ${id}: seats of course ${input.courseId} too contended, retry`);
}
