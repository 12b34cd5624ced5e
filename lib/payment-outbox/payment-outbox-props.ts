import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';

/** Properties of a {@link PaymentOutbox}. Every prop is optional. */
export interface PaymentOutboxProps {
  /**
   * Where every alarm of the construct goes.
   * @default - an encrypted topic is created (`alarmTopic`)
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Key for the payments table, the created signing secret and the publisher DLQ.
   * @default - a customer-managed key with rotation is created
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * What happens to the payments table when it leaves the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * The bus payment events are published to.
   * @default - a bus is created (`eventBus`)
   */
  readonly eventBus?: events.IEventBus;
  /**
   * The provider's webhook signing secret: JSON `{ "current": "...", "previous"?: "..." }`
   * (both accepted, for rotations) or one plain string.
   * @default - a secret `{ "current": <48 random characters> }` is created
   */
  readonly signingSecret?: secretsmanager.ISecret;
  /**
   * How far a webhook's signed timestamp may be from now, either way (replay protection).
   * From 30 seconds to 1 hour.
   * @default Duration.minutes(5)
   */
  readonly signatureTolerance?: Duration;
  /**
   * How long outbox records stay in the table (DynamoDB TTL deletes them after that),
   * and so how far back a replay can reach. From 1 to 365 days.
   * @default Duration.days(7)
   */
  readonly outboxRetention?: Duration;
  /**
   * Stage throttling of the webhook API.
   * @default { rateLimit: 50, burstLimit: 100 }
   */
  readonly throttle?: apigw.ThrottleSettings;
  /**
   * Retention of function logs and API access logs.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Stream records per publisher invocation (1–10,000); PutEvents calls carry 10 each.
   * @default 100
   */
  readonly publisherBatchSize?: number;
  /**
   * Retries of a failing stream batch before it goes to the publisher DLQ (0–10,000).
   * @default 10
   */
  readonly publisherRetryAttempts?: number;
  /**
   * Age after which a stream record that still fails goes to the publisher DLQ
   * (60 seconds to 7 days).
   * @default Duration.hours(6)
   */
  readonly publisherMaxRecordAge?: Duration;
  /**
   * Sidecar source maps and `--enable-source-maps` (~20–25 ms per cold start).
   * @default false
   */
  readonly sourceMaps?: boolean;
}
