import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { ENROLLMENT_TABLE_SCHEMA as S } from './contract';
import { acknowledgeBackupPlan, secureTableSettings } from '../core/tables';

const STRING = dynamodb.AttributeType.STRING;

/** Purchases, courses, trainers, allocations, sessions, the saga's records and the uniqueness guards, in one table. */
export function createEnrollmentTable(scope: Construct, key: kms.IKey, removalPolicy: RemovalPolicy): dynamodb.Table {
  const table = new dynamodb.Table(scope, 'EnrollmentTable', {
    partitionKey: { name: S.partitionKey, type: STRING },
    sortKey: { name: S.sortKey, type: STRING },
    ...secureTableSettings(key, removalPolicy),
  });
  acknowledgeBackupPlan(table);
  table.addGlobalSecondaryIndex({
    indexName: S.topUpIndex.indexName,
    partitionKey: { name: S.topUpIndex.partitionKey, type: STRING },
    sortKey: { name: S.topUpIndex.sortKey, type: STRING },
  });
  return table;
}
