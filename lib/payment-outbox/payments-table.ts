import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { PAYMENTS_TABLE_SCHEMA as S } from './contract';
import { acknowledgeBackupPlan, secureTableSettings } from '../core/tables';

const STRING = dynamodb.AttributeType.STRING;

/**
 * The payments table: state, provider-event ledger and outbox of each payment under one
 * partition key (one transaction covers them); a new-image stream feeds the publisher,
 * TTL clears expired outbox records, the outbox index serves replays.
 */
export function createPaymentsTable(scope: Construct, key: kms.IKey, removalPolicy: RemovalPolicy): dynamodb.Table {
  const table = new dynamodb.Table(scope, 'PaymentsTable', {
    partitionKey: { name: S.partitionKey, type: STRING },
    sortKey: { name: S.sortKey, type: STRING },
    ...secureTableSettings(key, removalPolicy),
    stream: dynamodb.StreamViewType[S.streamViewType],
    timeToLiveAttribute: S.timeToLiveAttribute,
  });
  acknowledgeBackupPlan(table);
  table.addGlobalSecondaryIndex({
    indexName: S.outboxByTimeIndex.indexName,
    partitionKey: { name: S.outboxByTimeIndex.partitionKey, type: STRING },
    sortKey: { name: S.outboxByTimeIndex.sortKey, type: STRING },
  });
  return table;
}
