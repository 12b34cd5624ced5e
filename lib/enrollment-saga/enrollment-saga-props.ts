import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';

/** Thresholds of the saga's alarms (defaults: the values the construct always used). */
export interface EnrollmentSagaAlarmThresholds {
  /**
   * Error rate of each function (errors / invocations over 5 minutes), in percent.
   * @default 5
   */
  readonly functionErrorRatePercent?: number;
  /**
   * p95 duration of each function, 3 periods of 5 minutes in a row.
   * @default Duration.seconds(3)
   */
  readonly functionP95Duration?: Duration;
  /**
   * Failed executions in 5 minutes above which the alarm fires (every compensated saga is a failed execution).
   * @default 0
   */
  readonly failedExecutions?: number;
  /**
   * p95 execution time over 5 minutes.
   * @default Duration.seconds(5)
   */
  readonly executionTimeP95?: Duration;
  /**
   * Trigger events waiting in the trigger DLQ above which the backlog alarm fires (the
   * DLQ's own alarm fires on the first one).
   * @default 100
   */
  readonly triggerDeadLetterBacklog?: number;
  /**
   * Age of the oldest message in a work queue (trigger, refund, stopped executions).
   * @default Duration.minutes(5)
   */
  readonly queueMaxMessageAge?: Duration;
}

/** Properties of an {@link EnrollmentSaga}. */
export interface EnrollmentSagaProps {
  /** The bus the payment events arrive on (typically `PaymentOutbox.eventBus`); saga facts are published there too. */
  readonly eventBus: events.IEventBus;
  /**
   * Which events start a saga. It must name the exact `source`s: the starter refuses
   * (to the trigger DLQ) any event of another source. Their detail must be a library
   * envelope whose payload has `paymentId`, `amount` (minor units), `currency` and,
   * directly or under `metadata`, `studentId` and `courseId`.
   * @default { source: ['cdk-event-services.payment-outbox'], detailType: ['PaymentSucceeded'] }
   */
  readonly triggerPattern?: events.EventPattern;
  /**
   * AWS accounts a trigger (and a refund) may come from: events with another `account`
   * are refused to the DLQ. Add the payment service's account when its events reach this
   * bus from another account.
   * @default - this stack's account
   */
  readonly triggerAccounts?: string[];
  /**
   * The EventBridge `source` of the refunds that cancel an enrollment (`PaymentRefunded`
   * events whose payment is refunded in full). Refunds of other sources are refused.
   * @default ['cdk-event-services.payment-outbox'] (PaymentOutbox)
   */
  readonly refundSources?: string[];
  /**
   * How many saga starters run at once (the trigger queue's event source `maxConcurrency`,
   * 2–1000): a burst of payments waits in the queue instead of throttling StartExecution
   * and sending paid triggers to the DLQ.
   * @default 5
   */
  readonly starterMaxConcurrency?: number;
  /**
   * Alarm thresholds.
   * @default - see {@link EnrollmentSagaAlarmThresholds}
   */
  readonly alarmThresholds?: EnrollmentSagaAlarmThresholds;
  /**
   * Customer-managed key for the functions' and the state machine's log groups.
   * @default - CloudWatch Logs' own encryption
   */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * Where every alarm goes.
   * @default - an encrypted topic is created (`alarmTopic`)
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Key for the tables and queues. A key of your own must let EventBridge
   * (`events.amazonaws.com`) use it through SQS (`kms:GenerateDataKey`, `kms:Decrypt`,
   * `kms:ViaService` = `sqs.<region>.amazonaws.com`): the construct adds that statement
   * only to a key in the stack.
   * @default - a customer-managed key with rotation is created
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * What happens to the enrollment table when it leaves the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Sessions kept scheduled ahead (the rolling window, 1–100).
   * @default 4
   */
  readonly sessionsPerWindow?: number;
  /**
   * Sessions of a course in all (1–1000).
   * @default 30
   */
  readonly totalSessions?: number;
  /**
   * Days between two sessions (1–365).
   * @default 7
   */
  readonly sessionIntervalDays?: number;
  /**
   * Time of day of every session, `HH:MM` UTC.
   * @default '09:00'
   */
  readonly sessionTime?: string;
  /**
   * When the session top-up runs.
   * @default events.Schedule.cron({ minute: '0', hour: '2' }) (daily, 02:00 UTC)
   */
  readonly topUpSchedule?: events.Schedule;
  /**
   * Receives of a queued event (trigger, refund, stopped execution) before it moves to its
   * queue's DLQ. Events that can never succeed (foreign, malformed) move at once.
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /**
   * Retention of function and state machine logs.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Time limit of one saga execution.
   * @default Duration.minutes(15)
   */
  readonly sagaTimeout?: Duration;
  /**
   * Sidecar source maps and `--enable-source-maps`.
   * @default false
   */
  readonly sourceMaps?: boolean;
}
