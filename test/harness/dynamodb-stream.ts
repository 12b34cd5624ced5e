import {
  DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand, type _Record,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';
import { endpoints, REGION } from './local-aws';

const client = () => new DynamoDBStreamsClient({ region: REGION, endpoint: endpoints().dynamodb, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });

/**
 * Every record now in a table's stream on DynamoDB Local, shard by shard from the start,
 * in the shape Lambda's stream poller hands to a function.
 */
export async function readStream(streamArn: string): Promise<DynamoDBRecord[]> {
  const streams = client();
  const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
  const records: DynamoDBRecord[] = [];
  for (const shard of StreamDescription?.Shards ?? []) {
    let { ShardIterator: iterator } = await streams.send(new GetShardIteratorCommand({
      StreamArn: streamArn, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON',
    }));
    while (iterator) {
      const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
      records.push(...(page.Records ?? []).map((r) => toLambdaRecord(r, streamArn)));
      if (!page.Records?.length) break; // an open shard always returns a next iterator
      iterator = page.NextShardIterator;
    }
  }
  return records;
}

function toLambdaRecord(r: _Record, streamArn: string): DynamoDBRecord {
  return {
    eventID: r.eventID,
    eventName: r.eventName as DynamoDBRecord['eventName'],
    eventVersion: r.eventVersion,
    eventSource: 'aws:dynamodb',
    awsRegion: REGION,
    eventSourceARN: streamArn,
    dynamodb: {
      ...(r.dynamodb as DynamoDBRecord['dynamodb']),
      ApproximateCreationDateTime: r.dynamodb?.ApproximateCreationDateTime ? r.dynamodb.ApproximateCreationDateTime.getTime() / 1000 : undefined,
    },
    ...(r.userIdentity ? { userIdentity: r.userIdentity } : {}),
  };
}

/**
 * Lambda's event filter, for the subset of patterns the library uses: each leaf is a list
 * of accepted strings, matched against the record's value at that path (a DynamoDB
 * attribute's `{ S: ... }` included).
 */
export function matchesFilter(record: unknown, pattern: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([key, expected]) => {
    const value = (record as Record<string, unknown> | undefined)?.[key];
    return Array.isArray(expected) ? expected.includes(value) : matchesFilter(value, expected as Record<string, unknown>);
  });
}
