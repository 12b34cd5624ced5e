import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  BUILD_JOBS_TABLE_SCHEMA as S, DELIVERY_LOG_MAX_ATTEMPTS, DeliveryLogLayout, type DeliveryLogEntry,
} from '../../lib/build-pipeline/contract';
import { isConditionFailure } from '../shared/dynamodb-conditions';

/**
 * A job's webhook delivery log: one item per event next to the job (`PK = JOB#{jobId}`,
 * `SK = DELIVERY#{eventId}`), its last {@link DELIVERY_LOG_MAX_ATTEMPTS} attempts kept.
 * Each write is one UpdateItem guarded by the item's revision (`rev`), so two concurrent
 * deliveries of one message (SQS is at-least-once) never drop each other's attempt.
 */

export type DeliveryState = DeliveryLogEntry['state'];
export type DeliveryAttempt = DeliveryLogEntry['attempts'][number];

export interface DeliveryLog extends DeliveryLogEntry {
  /** Attempts made in all (the list keeps the last ones only). */
  readonly attemptCount: number;
  readonly rev: number;
}

export interface DeliveryLogServices {
  readonly db: DynamoDBDocumentClient;
  readonly tableName: string;
}

/** States after which the event is never sent again: a redelivered message is acked. */
export const FINAL_STATES: ReadonlySet<DeliveryState> = new Set(['delivered', 'gone']);

const logKey = (jobId: string, eventId: string) => ({ [S.partitionKey]: `JOB#${jobId}`, [S.sortKey]: DeliveryLogLayout.sortKey(eventId) });

export async function readDeliveryLog(jobId: string, eventId: string, services: DeliveryLogServices): Promise<DeliveryLog | undefined> {
  const { Item } = await services.db.send(new GetCommand({ TableName: services.tableName, Key: logKey(jobId, eventId), ConsistentRead: true }));
  return Item as DeliveryLog | undefined;
}

export interface LogChange {
  readonly jobId: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly state: DeliveryState;
  /** Attempts made by this delivery (usually one; two when a 401/403 was re-sent with a rotated secret). */
  readonly attempts?: readonly DeliveryAttempt[];
  readonly at: string;
  /** The job's TTL (epoch seconds): the log goes when the job goes. */
  readonly ttl?: number;
}

/**
 * Appends the attempts (if any) and sets the state, given the log as last read. On a concurrent
 * write it reads again and re-applies (a few times); a final state already written by another
 * delivery is kept, so a late `retrying` never hides `delivered`.
 */
export async function recordDelivery(change: LogChange, read: DeliveryLog | undefined, services: DeliveryLogServices): Promise<DeliveryLog> {
  let current = read;
  for (let tries = 0; ; tries++) {
    const made = change.attempts ?? [];
    const attempts = [...(current?.attempts ?? []), ...made].slice(-DELIVERY_LOG_MAX_ATTEMPTS);
    const state = current && FINAL_STATES.has(current.state) && !FINAL_STATES.has(change.state) ? current.state : change.state;
    const next: DeliveryLog = {
      eventId: change.eventId,
      eventType: change.eventType,
      state,
      attempts,
      attemptCount: (current?.attemptCount ?? 0) + made.length,
      updatedAt: change.at,
      rev: (current?.rev ?? 0) + 1,
    };
    const values: Record<string, unknown> = {
      ':eventId': next.eventId,
      ':eventType': next.eventType,
      ':state': next.state,
      ':attempts': next.attempts,
      ':count': next.attemptCount,
      ':at': next.updatedAt,
      ':rev': next.rev,
    };
    const ttl = change.ttl !== undefined ? ', #ttl = :ttl' : '';
    if (ttl) values[':ttl'] = change.ttl;
    if (current) values[':prev'] = current.rev;
    try {
      await services.db.send(new UpdateCommand({
        TableName: services.tableName,
        Key: logKey(change.jobId, change.eventId),
        UpdateExpression: `SET eventId = :eventId, eventType = :eventType, #state = :state, attempts = :attempts, attemptCount = :count, updatedAt = :at, rev = :rev${ttl}`,
        ConditionExpression: current ? 'rev = :prev' : 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: {
          '#state': 'state', ...(current ? {} : { '#pk': S.partitionKey }), ...(ttl ? { '#ttl': S.timeToLiveAttribute } : {}),
        },
        ExpressionAttributeValues: values,
      }));
      return next;
    } catch (error) {
      if (!isConditionFailure(error) || tries >= 4) throw error;
      current = await readDeliveryLog(change.jobId, change.eventId, services);
    }
  }
}
