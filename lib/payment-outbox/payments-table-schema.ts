/**
 * The payments table, as plain data (the construct and the tests build it from this).
 * One table holds, per payment, its state item, its provider-event ledger and its outbox
 * records, so one TransactWriteItems covers them all; the stream carries the outbox.
 */
export const PAYMENTS_TABLE_SCHEMA = {
  partitionKey: 'PK',
  sortKey: 'SK',
  /** Outbox records by time, for replaying a window: partition per UTC day. */
  outboxByTimeIndex: { indexName: 'OutboxByTimeIndex', partitionKey: 'OUTBOX_DAY', sortKey: 'OUTBOX_AT' },
  /** Outbox records expire through TTL (no cleanup job). */
  timeToLiveAttribute: 'expiresAt',
  /** The publisher reads new images only. */
  streamViewType: 'NEW_IMAGE',
} as const;

/**
 * Lambda event filter of the outbox publisher: only newly inserted outbox records invoke
 * it. State and ledger writes, and TTL deletions (REMOVE), never cost an invocation.
 */
export const OUTBOX_STREAM_FILTER = {
  eventName: ['INSERT'],
  dynamodb: { NewImage: { recordType: { S: ['OUTBOX'] } } },
} as const;
