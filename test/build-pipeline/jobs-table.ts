import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { JobStoreServices } from '../../functions/build-pipeline/job-store';
import { BUILD_JOBS_TABLE_SCHEMA as S } from '../../lib/build-pipeline/contract';
import { localClients, uniqueName } from '../harness/local-aws';
import { createLocalTable } from '../harness/local-table';

/**
 * A jobs table on DynamoDB Local built from the contract's schema (both indexes, TTL), with a
 * settable clock: `advance(seconds)` moves the services' now.
 */
export async function jobsTable() {
  const clients = localClients();
  const tableName = uniqueName('build-jobs');
  await createLocalTable(clients.ddb, tableName, {
    partitionKey: S.partitionKey,
    sortKey: S.sortKey,
    indexes: [S.functionIndex, S.awaitingUploadIndex],
    timeToLiveAttribute: S.timeToLiveAttribute,
  });
  const clock = { now: new Date('2026-11-29T08:00:00.000Z') };
  const services: JobStoreServices = { db: clients.doc, tableName, now: () => clock.now };
  const advance = (seconds: number) => { clock.now = new Date(clock.now.getTime() + seconds * 1000); };
  const rawItem = async (PK: string, SK: string) =>
    (await clients.doc.send(new GetCommand({ TableName: tableName, Key: { PK, SK }, ConsistentRead: true }))).Item;
  return { clients, tableName, services, clock, advance, rawItem };
}
export type JobsTable = Awaited<ReturnType<typeof jobsTable>>;
