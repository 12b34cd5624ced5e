/**
 * PaymentOutbox's contract: what the construct, its handlers and the tests agree on. It
 * imports nothing, so the handlers' bundles and the construct share one copy of each name.
 */

/** Environment variables the construct sets and the handlers read. */
export const PaymentOutboxEnv = {
  TABLE_NAME: 'PAYMENTS_TABLE_NAME',
  SIGNING_SECRET_ARN: 'SIGNING_SECRET_ARN',
  SIGNATURE_TOLERANCE_SECONDS: 'SIGNATURE_TOLERANCE_SECONDS',
  OUTBOX_RETENTION_SECONDS: 'OUTBOX_RETENTION_SECONDS',
  EVENT_BUS_NAME: 'EVENT_BUS_NAME',
} as const;

const E = PaymentOutboxEnv;

/** One entry per Lambda handler: its bundle, its Powertools service name, the variables it reads. */
export const PaymentOutboxHandlers = {
  webhook: {
    entry: 'payment-outbox/webhook',
    serviceName: 'payment-outbox-webhook',
    environment: [E.TABLE_NAME, E.SIGNING_SECRET_ARN, E.SIGNATURE_TOLERANCE_SECONDS, E.OUTBOX_RETENTION_SECONDS],
  },
  publisher: { entry: 'payment-outbox/publish-outbox', serviceName: 'payment-outbox-publisher', environment: [E.EVENT_BUS_NAME] },
  replay: { entry: 'payment-outbox/replay-outbox', serviceName: 'payment-outbox-replay', environment: [E.TABLE_NAME, E.EVENT_BUS_NAME] },
} as const;

/** Defaults of the construct's props, in the units the handlers receive them. */
export const PaymentOutboxDefaults = {
  signatureToleranceSeconds: 5 * 60,
  outboxRetentionSeconds: 7 * 24 * 3600,
  publisherBatchSize: 100,
  publisherRetryAttempts: 10,
  publisherMaxRecordAgeSeconds: 6 * 3600,
  /** Archive of the created bus (not read by a handler). */
  archiveRetentionDays: 90,
} as const;

/** Event types PaymentOutbox publishes (EventBridge `detail-type`); consumers subscribe to these. */
export const PaymentEvents = {
  SUCCEEDED: 'PaymentSucceeded',
  FAILED: 'PaymentFailed',
  REFUNDED: 'PaymentRefunded',
} as const;

export type PaymentEventType = (typeof PaymentEvents)[keyof typeof PaymentEvents];

/**
 * `payload.status` of payment events. Partial refunds keep a payment `partially_refunded`;
 * the refund that brings the refunded total to the amount makes it `refunded` (once), so a
 * rule on full refunds matches `detail.payload.status: [PaymentStatuses.REFUNDED]`.
 */
export const PaymentStatuses = {
  PENDING: 'pending',
  SUCCEEDED: 'succeeded',
  FAILED: 'failed',
  PARTIALLY_REFUNDED: 'partially_refunded',
  REFUNDED: 'refunded',
} as const;

export type PaymentStatus = (typeof PaymentStatuses)[keyof typeof PaymentStatuses];

/** The envelope `source` of every payment event, and the EventBridge `source` it is published under. */
export const PAYMENT_EVENT_SOURCE = 'cdk-event-services.payment-outbox';

/**
 * The payments table. One table holds, per payment, its state item, its provider-event
 * ledger and its outbox records, so one TransactWriteItems covers them all; the stream
 * carries the outbox.
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

/** `recordType` of an outbox item: the stream filter and the publisher both match on it. */
export const OUTBOX_RECORD_TYPE = 'OUTBOX';

/**
 * Lambda event filter of the outbox publisher: only newly inserted outbox records invoke
 * it. State and ledger writes, and TTL deletions (REMOVE), never cost an invocation.
 */
export const OUTBOX_STREAM_FILTER = {
  eventName: ['INSERT'],
  dynamodb: { NewImage: { recordType: { S: [OUTBOX_RECORD_TYPE] } } },
} as const;
