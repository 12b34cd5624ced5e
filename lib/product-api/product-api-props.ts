import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';

/** Properties of a {@link ProductApi}. Every prop is optional. */
export interface ProductApiProps {
  /**
   * Where every alarm of the construct goes.
   * @default - an encrypted topic is created (`alarmTopic`)
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Key for the table, queues, topic, bucket and API key secret.
   * @default - a customer-managed key with rotation is created
   */
  readonly encryptionKey?: kms.IKey;
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
