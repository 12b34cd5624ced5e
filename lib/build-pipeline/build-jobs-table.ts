import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { BUILD_JOBS_TABLE_SCHEMA } from './contract';
import { acknowledgeBackupPlan, secureTableSettings } from '../core/tables';

const S = dynamodb.AttributeType.STRING;

/**
 * The jobs table: jobs, their Idempotency-Key items and webhook delivery logs. Its stream
 * (new and old images) is the outbox of the build events; TTL removes jobs after their
 * retention. Both indexes are sparse: only jobs carry their keys.
 */
export function createBuildJobsTable(scope: Construct, key: kms.IKey, removalPolicy: RemovalPolicy): dynamodb.Table {
  const { partitionKey, sortKey, functionIndex, awaitingUploadIndex, timeToLiveAttribute } = BUILD_JOBS_TABLE_SCHEMA;
  const table = new dynamodb.Table(scope, 'JobsTable', {
    partitionKey: { name: partitionKey, type: S },
    sortKey: { name: sortKey, type: S },
    stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    timeToLiveAttribute,
    ...secureTableSettings(key, removalPolicy),
  });
  acknowledgeBackupPlan(table);
  // A function's builds, newest first: the list returns whole jobs.
  table.addGlobalSecondaryIndex({
    indexName: functionIndex.indexName,
    partitionKey: { name: functionIndex.partitionKey, type: S },
    sortKey: { name: functionIndex.sortKey, type: S },
  });
  // The expiry sweep reads job ids only, then updates each job by key.
  table.addGlobalSecondaryIndex({
    indexName: awaitingUploadIndex.indexName,
    partitionKey: { name: awaitingUploadIndex.partitionKey, type: S },
    sortKey: { name: awaitingUploadIndex.sortKey, type: S },
    projectionType: dynamodb.ProjectionType.KEYS_ONLY,
  });
  return table;
}
