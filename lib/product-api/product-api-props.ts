import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { ApiAuthorization } from '../core/api-authorization';

/** Thresholds of the alarms a {@link ProductApi} creates; each default is today's value. */
export interface ProductApiAlarmThresholds {
  /**
   * Error rate of each function (errors / invocations over 5 minutes), in percent.
   * @default 5
   */
  readonly functionErrorRatePercent?: number;
  /**
   * p95 duration of each function, 3 periods of 5 minutes in a row.
   * @default Duration.millis(300)
   */
  readonly functionP95Duration?: Duration;
  /**
   * Age of the oldest message in the writer or audit queue, 5 minutes in a row.
   * @default Duration.minutes(5)
   */
  readonly queueMaxMessageAge?: Duration;
  /**
   * API 5xx rate (5xx / requests over 5 minutes), in percent.
   * @default 1
   */
  readonly api5xxRatePercent?: number;
}

/** Properties of a {@link ProductApi}. Every prop is optional. */
export interface ProductApiProps {
  /**
   * How callers prove who they are: API keys (the default), IAM (SigV4), a Cognito user
   * pool, or your own authorizer. The caller's identity goes into every change event and
   * audit object.
   * @default ApiAuthorization.apiKey()
   */
  readonly authorization?: ApiAuthorization;
  /**
   * One API key per named client (e.g. `['mobile', 'partner']`): each gets a key, its value
   * in a secret of its own (`apiKeySecrets[name]`), all on the usage plan, and every method
   * then needs a key. With another `authorization`, keys only serve usage plans (quotas,
   * throttling per client). Names: 1-64 of `A-Z a-z 0-9 _ -`.
   * @default ['default'] with API-key authorization (one shared key: no per-caller identity), none otherwise
   */
  readonly apiKeys?: string[];
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
   * Key for the products table, the idempotency table, the writer and audit queues and
   * their dead-letter queues, the subscription dead-letter queues, the audit bucket and
   * the secrets (API keys, page-token key). The changes topic always has a key of its own
   * (`ChangesTopicKey`): the queues' key policy names the topic, so one key for both would
   * be a dependency cycle.
   * @default - two customer-managed keys with rotation: one for product data and change
   * messages, one for the audit bucket
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Alarm thresholds; every one defaults to today's value.
   * @default - see {@link ProductApiAlarmThresholds}
   */
  readonly alarmThresholds?: ProductApiAlarmThresholds;
  /**
   * What happens to the products table and audit bucket when they leave the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Steady-state and burst request limits of the usage plan.
   * @default { rateLimit: 100, burstLimit: 200 }
   */
  readonly throttle?: apigw.ThrottleSettings;
  /**
   * Request quota of the usage plan.
   * @default { limit: 1_000_000, period: apigw.Period.MONTH }
   */
  readonly quota?: apigw.QuotaSettings;
  /**
   * Retention of function logs and API access logs.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Customer-managed key for the function and access log groups; its policy gets a
   * statement letting CloudWatch Logs use it for log groups of this account and region.
   * @default - CloudWatch Logs' own encryption (the logs hold ids and outcomes, not payloads)
   */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * Receives of one change before it moves to its queue's dead-letter queue.
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /**
   * Timeout of the change consumers (writer and audit logger); the queues' visibility
   * timeout is 6x this.
   * @default Duration.seconds(30)
   */
  readonly consumerTimeout?: Duration;
  /**
   * Age of the audit objects when they move to Glacier.
   * @default Duration.days(365)
   */
  readonly auditArchiveAfter?: Duration;
  /**
   * Sidecar source maps and `--enable-source-maps` (~20–25 ms per cold start).
   * @default false
   */
  readonly sourceMaps?: boolean;
}
