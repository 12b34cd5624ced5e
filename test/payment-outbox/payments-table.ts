import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PAYMENTS_TABLE_SCHEMA as S } from '../../lib/payment-outbox/contract';
import { createLocalTable } from '../harness/local-table';

/**
 * The payments table on DynamoDB Local, built from the construct's schema: keys, the
 * outbox-by-time GSI, the stream (new images) and TTL. Returns the stream ARN.
 */
export async function createPaymentsTable(ddb: DynamoDBClient, tableName: string): Promise<string> {
  const table = await createLocalTable(ddb, tableName, {
    partitionKey: S.partitionKey,
    sortKey: S.sortKey,
    indexes: [S.outboxByTimeIndex],
    streamViewType: S.streamViewType,
    timeToLiveAttribute: S.timeToLiveAttribute,
  });
  return table.LatestStreamArn!;
}
