import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { AUDIT_TABLE_SCHEMA, REGISTRY_TABLE_SCHEMA } from './contract';
import { acknowledgeBackupPlan, secureTableSettings } from '../core/tables';

const S = dynamodb.AttributeType.STRING;

/**
 * The registry: function configurations, deployment state and rate buckets. Its stream (new and
 * old images) drives the schedule sync and the purge of deleted functions; TTL removes purged
 * tombstones. Both listing indexes are sparse (live META items only).
 */
export function createRegistryTable(scope: Construct, key: kms.IKey, removalPolicy: RemovalPolicy): dynamodb.Table {
  const { partitionKey, sortKey, nameIndex, createdIndex, timeToLiveAttribute } = REGISTRY_TABLE_SCHEMA;
  const table = new dynamodb.Table(scope, 'RegistryTable', {
    partitionKey: { name: partitionKey, type: S },
    sortKey: { name: sortKey, type: S },
    stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    timeToLiveAttribute,
    ...secureTableSettings(key, removalPolicy),
  });
  acknowledgeBackupPlan(table);
  for (const index of [nameIndex, createdIndex]) {
    table.addGlobalSecondaryIndex({
      indexName: index.indexName,
      partitionKey: { name: index.partitionKey, type: S },
      sortKey: { name: index.sortKey, type: S },
    });
  }
  return table;
}

/**
 * The invocation audit: one item per invocation (and a pointer per async Lambda request id),
 * removed by TTL after the audit retention; a function's history by time on its index.
 */
export function createAuditTable(scope: Construct, key: kms.IKey, removalPolicy: RemovalPolicy): dynamodb.Table {
  const { partitionKey, functionIndex, timeToLiveAttribute } = AUDIT_TABLE_SCHEMA;
  const table = new dynamodb.Table(scope, 'AuditTable', {
    partitionKey: { name: partitionKey, type: S },
    timeToLiveAttribute,
    ...secureTableSettings(key, removalPolicy),
  });
  acknowledgeBackupPlan(table);
  table.addGlobalSecondaryIndex({
    indexName: functionIndex.indexName,
    partitionKey: { name: functionIndex.partitionKey, type: S },
    sortKey: { name: functionIndex.sortKey, type: S },
  });
  return table;
}
