import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';

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
   * Where every alarm goes.
   * @default - an encrypted topic is created (`alarmTopic`)
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Key for the tables and queues.
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
   * Receives of a trigger event before it moves to the starter's DLQ.
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
