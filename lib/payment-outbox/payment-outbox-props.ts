import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';

/** Thresholds of the alarms a {@link PaymentOutbox} creates; each default is today's value. */
export interface PaymentOutboxAlarmThresholds {
  /**
   * Error rate of each function (errors / invocations over 5 minutes), in percent.
   * @default 5
   */
  readonly functionErrorRatePercent?: number;
  /**
   * p95 duration of the webhook function, 3 periods of 5 minutes in a row.
   * @default Duration.seconds(1)
   */
  readonly webhookP95Duration?: Duration;
  /**
   * p95 duration of the publisher function, 3 periods of 5 minutes in a row.
   * @default Duration.seconds(5)
   */
  readonly publisherP95Duration?: Duration;
  /**
   * p95 duration of the replay function, 3 periods of 5 minutes in a row.
   * @default Duration.minutes(4)
   */
  readonly replayP95Duration?: Duration;
  /**
   * Webhook API 5xx rate (5xx / requests over 5 minutes), in percent.
   * @default 1
   */
  readonly api5xxRatePercent?: number;
  /**
   * How far the publisher may lag behind the table's stream (maximum iterator age,
   * 3 minutes in a row) before the events count as late.
   * @default Duration.seconds(60)
   */
  readonly publisherIteratorAge?: Duration;
}

/** Properties of a {@link PaymentOutbox}. Every prop is optional. */
export interface PaymentOutboxProps {
  /**
   * Where every alarm of the construct goes. A topic you pass is yours: its policy must let
   * `cloudwatch.amazonaws.com` publish (`sns:Publish`, ideally scoped with `aws:SourceAccount`
   * and `aws:SourceArn` of your alarms), and if it is KMS-encrypted, its key policy must let
   * CloudWatch use `kms:Decrypt` and `kms:GenerateDataKey*` (granted here when the key is
   * defined in the same app; an imported key is yours to set).
   * @default - an encrypted topic that CloudWatch may publish to is created (`alarmTopic`)
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Alarm thresholds; every one defaults to today's value.
   * @default - see {@link PaymentOutboxAlarmThresholds}
   */
  readonly alarmThresholds?: PaymentOutboxAlarmThresholds;
  /**
   * Key for the payments table, the created signing secret and the publisher DLQ. One key
   * for the three: the webhook reads the table and the secret, the publisher's failures
   * land in the DLQ, and nothing else uses it.
   * @default - a customer-managed key with rotation is created
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Customer-managed key for the functions' log groups and the webhook's access logs
   * (NIST 800-53 / PCI DSS ask for one). The key policy is given the statement CloudWatch
   * Logs needs, scoped to this account's log groups.
   * @default - CloudWatch Logs' own encryption (the logs hold ids and outcomes, not card data)
   */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * What happens to the payments table when it leaves the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * The bus payment events are published to. A bus you pass is yours: no archive is put
   * on it (add one with `bus.archive(...)` and {@link PaymentOutbox.eventPattern} if you want one).
   * @default - a bus is created (`eventBus`), with an archive of its payment events (`archive`)
   */
  readonly eventBus?: events.IEventBus;
  /**
   * How long the archive on the created bus keeps payment events, so consumers can replay
   * beyond `outboxRetention` (EventBridge `StartReplay`). From 1 to 3,650 days. Ignored
   * when you pass `eventBus`.
   * @default Duration.days(90)
   */
  readonly archiveRetention?: Duration;
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
