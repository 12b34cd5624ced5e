import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { PAYMENTS_TABLE_SCHEMA as S } from '../../lib/payment-outbox/payments-table-schema';

/**
 * The payments table on DynamoDB Local, built from the construct's schema: keys, the
 * outbox-by-time GSI, the stream (new images) and TTL. Returns the stream ARN.
 */
export async function createPaymentsTable(ddb: DynamoDBClient, tableName: string): Promise<string> {
  const attr = (name: string) => ({ AttributeName: name, AttributeType: 'S' as const });
  const { TableDescription } = await ddb.send(new CreateTableCommand({
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [attr(S.partitionKey), attr(S.sortKey), attr(S.outboxByTimeIndex.partitionKey), attr(S.outboxByTimeIndex.sortKey)],
    KeySchema: [{ AttributeName: S.partitionKey, KeyType: 'HASH' }, { AttributeName: S.sortKey, KeyType: 'RANGE' }],
    GlobalSecondaryIndexes: [{
      IndexName: S.outboxByTimeIndex.indexName,
      KeySchema: [{ AttributeName: S.outboxByTimeIndex.partitionKey, KeyType: 'HASH' }, { AttributeName: S.outboxByTimeIndex.sortKey, KeyType: 'RANGE' }],
      Projection: { ProjectionType: 'ALL' },
    }],
    StreamSpecification: { StreamEnabled: true, StreamViewType: S.streamViewType },
  }));
  await ddb.send(new UpdateTimeToLiveCommand({
    TableName: tableName,
    TimeToLiveSpecification: { Enabled: true, AttributeName: S.timeToLiveAttribute },
  }));
  return TableDescription!.LatestStreamArn!;
}
