import { CreateTableCommand, UpdateTimeToLiveCommand, type DynamoDBClient, type TableDescription } from '@aws-sdk/client-dynamodb';

/** A table as the constructs' schema modules describe it (string keys only, as every library table has). */
export interface LocalTableSpec {
  readonly partitionKey: string;
  readonly sortKey?: string;
  readonly indexes?: ReadonlyArray<{ readonly indexName: string; readonly partitionKey: string; readonly sortKey?: string }>;
  readonly streamViewType?: 'NEW_IMAGE' | 'NEW_AND_OLD_IMAGES' | 'OLD_IMAGE' | 'KEYS_ONLY';
  readonly timeToLiveAttribute?: string;
}

const keySchema = (partitionKey: string, sortKey?: string) => [
  { AttributeName: partitionKey, KeyType: 'HASH' as const },
  ...(sortKey ? [{ AttributeName: sortKey, KeyType: 'RANGE' as const }] : []),
];

/** Creates the table on DynamoDB Local from a construct's schema, so tests and the construct cannot drift. */
export async function createLocalTable(ddb: DynamoDBClient, tableName: string, spec: LocalTableSpec): Promise<TableDescription> {
  const indexes = spec.indexes ?? [];
  const keys = new Set([spec.partitionKey, spec.sortKey, ...indexes.flatMap((i) => [i.partitionKey, i.sortKey])].filter((k): k is string => !!k));
  const { TableDescription } = await ddb.send(new CreateTableCommand({
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...keys].map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
    KeySchema: keySchema(spec.partitionKey, spec.sortKey),
    ...(indexes.length > 0 ? {
      GlobalSecondaryIndexes: indexes.map((i) => ({
        IndexName: i.indexName, KeySchema: keySchema(i.partitionKey, i.sortKey), Projection: { ProjectionType: 'ALL' as const },
      })),
    } : {}),
    ...(spec.streamViewType ? { StreamSpecification: { StreamEnabled: true, StreamViewType: spec.streamViewType } } : {}),
  }));
  if (spec.timeToLiveAttribute) {
    await ddb.send(new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { Enabled: true, AttributeName: spec.timeToLiveAttribute },
    }));
  }
  return TableDescription!;
}
