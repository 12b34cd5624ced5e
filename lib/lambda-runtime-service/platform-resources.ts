import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { LIVE_ALIAS } from './contract';
import { allowServiceIntoQueues, ReliableQueue } from '../core';

export interface PlatformResourcesProps {
  readonly prefix: string;
  readonly key: kms.IKey;
  readonly alarmTopic: sns.ITopic;
  /** Timeout of the results consumer (the results queue's visibility is a multiple of it). */
  readonly resultsConsumerTimeout: Duration;
  /** Callback attempts: the results queue's maxReceiveCount. */
  readonly resultsMaxReceiveCount: number;
  /** Longest callback retry delay (a healthy results queue's oldest message can be that old). */
  readonly resultsMaxDelay: Duration;
  readonly platformFunctionPolicy: iam.PolicyStatement[];
}

/**
 * What the platform's functions (the users' code) run with and report to:
 * - one execution role whose permissions boundary is its own policy: logs of `{prefix}-*`
 *   functions, the async result destinations, and only what `platformFunctionPolicy` adds; a
 *   policy attached to the role later cannot go beyond it;
 * - async results: Lambda's on-success destination is the results queue; its on-failure
 *   destination is a topic that fans out to the results queue (so the audit and the callback
 *   learn of it) and to the async dead-letter queue (kept 14 days, alarmed);
 * - schedules: one Scheduler group named by the prefix, the role Scheduler invokes `live`
 *   aliases with, and the dead-letter queue of scheduled calls it could not deliver.
 */
export class PlatformResources extends Construct {
  public readonly executionRole: iam.Role;
  public readonly permissionsBoundary: iam.ManagedPolicy;
  public readonly resultsQueue: ReliableQueue;
  public readonly failureTopic: sns.Topic;
  public readonly asyncDeadLetterQueue: sqs.Queue;
  public readonly scheduleGroup: scheduler.CfnScheduleGroup;
  public readonly schedulerRole: iam.Role;
  public readonly scheduleDeadLetterQueue: sqs.Queue;
  /** `arn:{partition}:lambda:{region}:{account}:function:`. */
  public readonly functionArnBase: string;
  /** Every platform function (`{prefix}-*`), its versions and aliases. */
  public readonly functionArnPattern: string;

  constructor(scope: Construct, id: string, props: PlatformResourcesProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { key, prefix } = props;
    this.functionArnBase = `arn:${stack.partition}:lambda:${stack.region}:${stack.account}:function:`;
    this.functionArnPattern = `${this.functionArnBase}${prefix}-*`;
    const dlqProps = { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: key, enforceSSL: true, retentionPeriod: Duration.days(14) };

    this.resultsQueue = new ReliableQueue(this, 'AsyncResults', {
      alarmTopic: props.alarmTopic,
      encryptionKey: key,
      consumerTimeout: props.resultsConsumerTimeout,
      maxReceiveCount: props.resultsMaxReceiveCount,
      maxMessageAge: Duration.millis(Math.min(14 * 86_400_000, props.resultsMaxDelay.toMilliseconds() * props.resultsMaxReceiveCount + 3_600_000)),
    });
    this.failureTopic = new sns.Topic(this, 'AsyncFailureTopic', { masterKey: key, enforceSSL: true });
    this.asyncDeadLetterQueue = new sqs.Queue(this, 'AsyncDeadLetterQueue', dlqProps);
    for (const [subId, queue] of [['ResultsSubscription', this.resultsQueue.queue], ['DeadLetterSubscription', this.asyncDeadLetterQueue]] as const) {
      // Raw delivery: both queues receive Lambda's invocation record itself, as the on-success queue does.
      new sns.Subscription(this, subId, {
        topic: this.failureTopic, protocol: sns.SubscriptionProtocol.SQS, endpoint: queue.queueArn, rawMessageDelivery: true,
      });
      queue.addToResourcePolicy(new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('sns.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [queue.queueArn],
        conditions: { ArnEquals: { 'aws:SourceArn': this.failureTopic.topicArn } },
      }));
    }
    allowServiceIntoQueues(this, key, 'SnsDeliversAsyncFailuresIntoThisConstructsQueues', 'sns.amazonaws.com');

    const logGroups = `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:/aws/lambda/${prefix}-*`;
    this.permissionsBoundary = new iam.ManagedPolicy(this, 'PlatformFunctionPolicy', {
      description: `${this.node.path}: what ${prefix}-* functions may do (their permissions and their boundary)`,
      statements: [
        new iam.PolicyStatement({ sid: 'OwnLogs', actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroups, `${logGroups}:*`] }),
        new iam.PolicyStatement({ sid: 'AsyncSuccessDestination', actions: ['sqs:SendMessage'], resources: [this.resultsQueue.queue.queueArn] }),
        new iam.PolicyStatement({ sid: 'AsyncFailureDestination', actions: ['sns:Publish'], resources: [this.failureTopic.topicArn] }),
        new iam.PolicyStatement({ sid: 'DestinationEncryption', actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [key.keyArn] }),
        ...props.platformFunctionPolicy,
      ],
    });
    this.executionRole = new iam.Role(this, 'ExecutionRole', {
      description: `${this.node.path}: the one execution role of ${prefix}-* functions`,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      managedPolicies: [this.permissionsBoundary],
      permissionsBoundary: this.permissionsBoundary,
    });

    this.scheduleDeadLetterQueue = new sqs.Queue(this, 'ScheduleDeadLetterQueue', dlqProps);
    this.scheduleGroup = new scheduler.CfnScheduleGroup(this, 'ScheduleGroup', { name: prefix });
    const groupSchedules = `arn:${stack.partition}:scheduler:${stack.region}:${stack.account}:schedule/${prefix}/*`;
    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      description: `${this.node.path}: EventBridge Scheduler invokes ${prefix}-* live aliases`,
      // Only schedules of this group, in this account, may use it (confused deputy).
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account }, ArnLike: { 'aws:SourceArn': groupSchedules } },
      }),
    });
    iam.Grant.addToPrincipal({ grantee: this.schedulerRole, actions: ['lambda:InvokeFunction'], resourceArns: [`${this.functionArnPattern}:${LIVE_ALIAS}`] });
    iam.Grant.addToPrincipal({ grantee: this.schedulerRole, actions: ['sqs:SendMessage'], resourceArns: [this.scheduleDeadLetterQueue.queueArn] });
    key.grant(this.schedulerRole, 'kms:GenerateDataKey', 'kms:Decrypt');
  }
}
