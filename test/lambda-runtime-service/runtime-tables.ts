import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditServices } from '../../functions/lambda-runtime-service/invocation-audit';
import type { RegistryServices } from '../../functions/lambda-runtime-service/registry-store';
import { AUDIT_TABLE_SCHEMA as A, REGISTRY_TABLE_SCHEMA as R } from '../../lib/lambda-runtime-service/contract';
import { localClients, uniqueName } from '../harness/local-aws';
import { createLocalTable } from '../harness/local-table';

/**
 * The registry and audit tables on DynamoDB Local, built from the contract's schemas (indexes, TTL),
 * with one settable clock for every service: `advance(seconds)` moves it.
 */
export async function runtimeTables(limits: RegistryServices['limits'] = undefined) {
  const clients = localClients();
  const registryTable = uniqueName('fn-registry');
  const auditTable = uniqueName('fn-audit');
  await Promise.all([
    createLocalTable(clients.ddb, registryTable, {
      partitionKey: R.partitionKey,
      sortKey: R.sortKey,
      indexes: [R.nameIndex, R.createdIndex],
      timeToLiveAttribute: R.timeToLiveAttribute,
    }),
    createLocalTable(clients.ddb, auditTable, {
      partitionKey: A.partitionKey,
      indexes: [A.functionIndex],
      timeToLiveAttribute: A.timeToLiveAttribute,
    }),
  ]);
  const clock = { ms: Date.parse('2026-11-29T08:00:00.000Z') };
  const registry: RegistryServices = { db: clients.doc, tableName: registryTable, now: () => new Date(clock.ms), limits };
  const audit: AuditServices = { db: clients.doc, tableName: auditTable };
  const advance = (seconds: number) => { clock.ms += Math.round(seconds * 1000); };
  const rawRegistryItem = async (PK: string, SK: string) =>
    (await clients.doc.send(new GetCommand({ TableName: registryTable, Key: { PK, SK }, ConsistentRead: true }))).Item;
  const rawAuditItem = async (PK: string) =>
    (await clients.doc.send(new GetCommand({ TableName: auditTable, Key: { PK }, ConsistentRead: true }))).Item;
  return { clients, registryTable, auditTable, clock, registry, audit, advance, rawRegistryItem, rawAuditItem };
}
export type RuntimeTables = Awaited<ReturnType<typeof runtimeTables>>;
