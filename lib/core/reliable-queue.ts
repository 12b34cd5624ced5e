import { Duration } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { addDeadLetterQueueAlarm, addQueueAgeAlarm } from './alarms';
import { checkInteger } from './prop-checks';

/** Properties of a {@link ReliableQueue}. */
export interface ReliableQueueProps {
  /** Timeout of the function that consumes the queue: the visibility timeout derives from it. */
  readonly consumerTimeout: Duration;
  /** Where the DLQ depth and message age alarms go. */
  readonly alarmTopic: sns.ITopic;
  /** Key for queue and DLQ encryption. */
  readonly encryptionKey: kms.IKey;
  /**
   * FIFO queue and DLQ: ordered per message group, deduplicated.
   * @default false
   */
  readonly fifo?: boolean;
  /**
   * Receives before a message moves to the DLQ.
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /**
   * Age of the oldest message that raises the age alarm.
   * @default Duration.minutes(5)
   */
  readonly maxMessageAge?: Duration;
}

/** AWS's rule for queues that trigger Lambda: visibility >= 6x the function timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

/**
 * A queue with its dead-letter queue, both encrypted and TLS-only, a visibility timeout
 * derived from its consumer's timeout, and alarms on DLQ depth and on message age.
 */
export class ReliableQueue extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: ReliableQueueProps) {
    super(scope, id);
    const maxReceiveCount = props.maxReceiveCount ?? 5;
    checkInteger(this, 'maxReceiveCount', maxReceiveCount, 1, 1000);
    const common = {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      ...(props.fifo ? { fifo: true, contentBasedDeduplication: false } : {}),
    };
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      ...common,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      ...common,
      visibilityTimeout: Duration.seconds(props.consumerTimeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
      // The maximum: after a consumer outage longer than SQS's 4-day default, messages
      // would expire without ever reaching the DLQ.
      retentionPeriod: Duration.days(14),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
    });
    addDeadLetterQueueAlarm(this, 'DeadLetterQueue', this.deadLetterQueue, props.alarmTopic);
    addQueueAgeAlarm(this, 'Queue', this.queue, props.alarmTopic, props.maxMessageAge ?? Duration.minutes(5));
  }
}
