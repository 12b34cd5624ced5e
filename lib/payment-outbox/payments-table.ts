import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { PAYMENTS_TABLE_SCHEMA as S } from './contract';
import { acknowledgeFindings } from '../core/nag';
import { secureTableSettings } from '../core/tables';

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
    ...secureTableSettings(key),
    stream: dynamodb.StreamViewType[S.streamViewType],
    timeToLiveAttribute: S.timeToLiveAttribute,
    removalPolicy,
    // RETAIN says the data must outlive the stack; deletion protection also stops a console or API delete.
    deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
  });
  acknowledgeFindings(table, {
    'NIST.800.53.R5-DynamoDBInBackupPlan': 'Point-in-time recovery (35 days) is on. An AWS Backup plan (vault, schedule, ' +
      'retention, copies) is the account\'s backup policy, not a construct\'s: add the table to yours ' +
      '(`BackupResource.fromDynamoDbTable(outbox.table)`, README).',
  });
  table.addGlobalSecondaryIndex({
    indexName: S.outboxByTimeIndex.indexName,
    partitionKey: { name: S.outboxByTimeIndex.partitionKey, type: STRING },
    sortKey: { name: S.outboxByTimeIndex.sortKey, type: STRING },
  });
  return table;
}
