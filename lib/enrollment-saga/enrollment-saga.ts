import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambdaEvents from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  acknowledgeFindings, addFunctionAlarms, checkDuration, checkInteger, createIdempotencyTable, createServiceKey, nagArn, notify, propError,
  ReliableQueue, resolveAlarmTopic, ServiceFunction, type HandlerContract,
} from '../core';
import {
  EnrollmentSagaDefaults as D, EnrollmentSagaEnv as E, EnrollmentSagaHandlers as H,
} from './contract';
import { EnrollmentEvents } from './enrollment-event-types';
import { EnrollmentSagaProps } from './enrollment-saga-props';
import { createEnrollmentTable } from './enrollment-tables';
import { sagaDefinition } from './saga-definition';

/**
 * From a confirmed payment to a scheduled course, in the background: each trigger event
 * starts one Step Functions Standard execution named after the event id; its steps create
 * the purchase, take a trainer seat, schedule a rolling window of sessions and complete
 * the enrollment, each idempotent and each announced on the bus; a failure is compensated.
 */
export class EnrollmentSaga extends Construct {
  /** The saga's event types, for rules and consumers. */
  public static readonly EVENTS = EnrollmentEvents;

  public readonly stateMachine: sfn.StateMachine;
  /** Purchases, trainers (seeded by you), allocations, sessions. */
  public readonly table: dynamodb.Table;
  /** Powertools idempotency records of the steps (the plan's processed_events), expiring by TTL. */
  public readonly idempotencyTable: dynamodb.Table;
  /** Trigger events waiting for the starter, and its dead-letter queue. */
  public readonly triggerQueue: sqs.IQueue;
  public readonly triggerDeadLetterQueue: sqs.IQueue;
  public readonly starterFunction: ServiceFunction;
  public readonly createPurchaseFunction: ServiceFunction;
  public readonly allocateTrainerFunction: ServiceFunction;
  public readonly scheduleSessionsFunction: ServiceFunction;
  public readonly completeEnrollmentFunction: ServiceFunction;
  public readonly compensateFunction: ServiceFunction;
  public readonly topUpFunction: ServiceFunction;
  public readonly alarmTopic: sns.ITopic;
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: EnrollmentSagaProps) {
    super(scope, id);
    const plan = this.checkedPlan(props);
    const logRetention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;
    const key: kms.IKey = props.encryptionKey ?? createServiceKey(this, 'Key', 'enrollment data at rest');
    this.alarmTopic = resolveAlarmTopic(this, props.alarmTopic);
    this.table = createEnrollmentTable(this, key, props.removalPolicy ?? RemovalPolicy.RETAIN);
    this.idempotencyTable = createIdempotencyTable(this, key);

    const planEnvironment = {
      [E.TABLE_NAME]: this.table.tableName,
      [E.SESSION_WINDOW]: String(plan.window),
      [E.TOTAL_SESSIONS]: String(plan.total),
      [E.SESSION_INTERVAL_DAYS]: String(plan.intervalDays),
      [E.SESSION_TIME]: plan.time,
    };
    const stepEnvironment = { ...planEnvironment, [E.IDEMPOTENCY_TABLE_NAME]: this.idempotencyTable.tableName };
    const fn = (fid: string, contract: HandlerContract, environment: Record<string, string> = stepEnvironment, timeout?: Duration) =>
      new ServiceFunction(this, fid, { contract, environment, logRetention, sourceMaps: props.sourceMaps, ...(timeout ? { timeout } : {}) });
    this.createPurchaseFunction = fn('CreatePurchaseFunction', H.createPurchase);
    this.allocateTrainerFunction = fn('AllocateTrainerFunction', H.allocateTrainer);
    this.scheduleSessionsFunction = fn('ScheduleSessionsFunction', H.scheduleSessions);
    this.completeEnrollmentFunction = fn('CompleteEnrollmentFunction', H.completeEnrollment);
    this.compensateFunction = fn('CompensateFunction', H.compensate);
    this.topUpFunction = fn('TopUpFunction', H.topUp, planEnvironment, Duration.minutes(5));
    const steps = [
      this.createPurchaseFunction, this.allocateTrainerFunction, this.scheduleSessionsFunction,
      this.completeEnrollmentFunction, this.compensateFunction,
    ];
    for (const f of [...steps, this.topUpFunction]) this.table.grantReadWriteData(f);
    for (const f of steps) this.idempotencyTable.grantReadWriteData(f);

    const sagaLogs = new logs.LogGroup(this, 'StateMachineLogs', { retention: logRetention });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(sagaDefinition(this, {
        createPurchase: this.createPurchaseFunction,
        allocateTrainer: this.allocateTrainerFunction,
        scheduleSessions: this.scheduleSessionsFunction,
        completeEnrollment: this.completeEnrollmentFunction,
        compensate: this.compensateFunction,
      }, props.eventBus)),
      timeout: plan.sagaTimeout,
      tracingEnabled: true,
      // Every state transition is logged; payloads are not (they carry student ids).
      logs: { destination: sagaLogs, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });

    const starterTimeout = Duration.seconds(30);
    const trigger = new ReliableQueue(this, 'TriggerQueue', {
      consumerTimeout: starterTimeout, alarmTopic: this.alarmTopic, encryptionKey: key, maxReceiveCount: props.maxReceiveCount,
    });
    this.triggerQueue = trigger.queue;
    this.triggerDeadLetterQueue = trigger.deadLetterQueue;
    // EventBridge encrypts into the queue with the construct key.
    key.grant(new iam.ServicePrincipal('events.amazonaws.com'), 'kms:GenerateDataKey', 'kms:Decrypt');
    const triggerPattern = props.triggerPattern ?? { source: [...D.triggerSources], detailType: [...D.triggerDetailTypes] };
    new events.Rule(this, 'TriggerRule', {
      eventBus: props.eventBus,
      eventPattern: triggerPattern,
      targets: [new targets.SqsQueue(trigger.queue, { deadLetterQueue: trigger.deadLetterQueue, retryAttempts: 185 })],
    });
    this.starterFunction = fn('StarterFunction', H.starter, {
      [E.STATE_MACHINE_ARN]: this.stateMachine.stateMachineArn,
      [E.ACCEPTED_SOURCES]: this.sourcesOf('triggerPattern', triggerPattern).join(','),
      [E.ACCEPTED_ACCOUNTS]: (props.triggerAccounts ?? [Stack.of(this).account]).join(','),
      [E.DEAD_LETTER_QUEUE_URL]: trigger.deadLetterQueue.queueUrl,
    }, starterTimeout);
    this.stateMachine.grantStartExecution(this.starterFunction);
    trigger.deadLetterQueue.grantSendMessages(this.starterFunction); // refused events go to the DLQ at once
    this.starterFunction.addEventSource(new lambdaEvents.SqsEventSource(trigger.queue, { batchSize: 10, reportBatchItemFailures: true }));

    new events.Rule(this, 'TopUpSchedule', {
      schedule: props.topUpSchedule ?? events.Schedule.cron({ minute: '0', hour: '2' }),
      targets: [new targets.LambdaFunction(this.topUpFunction)],
    });

    this.addAlarms([this.starterFunction, ...steps, this.topUpFunction]);
    this.dashboard = this.createDashboard([this.starterFunction, ...steps]);
    acknowledgeFindings(this, {
      [`AwsSolutions-IAM5[Resource::${nagArn(this.table)}/index/*]`]: 'The top-up queries the enrollment table\'s own TopUpIndex.',
      'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]': 'Encrypting with this construct\'s key (table writes, queue messages).',
      'AwsSolutions-IAM5[Action::kms:ReEncrypt*]': 'CDK\'s encrypt/decrypt grant on this construct\'s key.',
      'AwsSolutions-SQS3': 'The queue reported is the trigger queue\'s dead-letter queue itself.',
    });
    acknowledgeFindings(this.stateMachine, {
      'AwsSolutions-IAM5[Resource::*]': 'X-Ray trace segments and CloudWatch Logs delivery have no resource-level permissions.',
      ...Object.fromEntries(steps.map((f) => [
        `AwsSolutions-IAM5[Resource::${nagArn(f)}:*]`, 'CDK\'s invoke grant covers the versions and aliases of this saga\'s own step function.',
      ])),
    });
  }

  /** Lets `grantee` read enrollments (purchases, allocations, sessions). */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.table.grantReadData(grantee);
  }

  /** Lets `grantee` seed and update trainers (and everything else in the table). */
  public grantManageTrainers(grantee: iam.IGrantable): iam.Grant {
    return this.table.grantReadWriteData(grantee);
  }

  /** The exact `source`s a pattern matches: the consumer refuses every other source. */
  private sourcesOf(prop: string, pattern: events.EventPattern): string[] {
    const sources = pattern.source;
    if (!sources || sources.length === 0 || !sources.every((s) => typeof s === 'string' && s.length > 0)) {
      throw propError(this, prop, 'must name the exact `source`s to accept (e.g. PaymentOutbox\'s ' +
        `'${D.triggerSources[0]}'), so that events of other sources on the bus can start nothing`);
    }
    return sources;
  }

  private checkedPlan(props: EnrollmentSagaProps) {
    const plan = {
      window: props.sessionsPerWindow ?? D.sessionsPerWindow,
      total: props.totalSessions ?? D.totalSessions,
      intervalDays: props.sessionIntervalDays ?? D.sessionIntervalDays,
      time: props.sessionTime ?? D.sessionTime,
      sagaTimeout: props.sagaTimeout ?? Duration.minutes(15),
    };
    // Below 10 minutes a bus outage would time the saga out inside an emit's ~5 minutes of retries.
    checkDuration(this, 'sagaTimeout', plan.sagaTimeout, Duration.minutes(10), Duration.days(365));
    checkInteger(this, 'sessionsPerWindow', plan.window, 1, 100);
    checkInteger(this, 'totalSessions', plan.total, 1, 1000);
    checkInteger(this, 'sessionIntervalDays', plan.intervalDays, 1, 365);
    if (plan.window > plan.total) throw propError(this, 'sessionsPerWindow', `must not exceed totalSessions (${plan.total}), got ${plan.window}`);
    if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(plan.time)) throw propError(this, 'sessionTime', `must be HH:MM (UTC), got '${plan.time}'`);
    return plan;
  }

  private addAlarms(functions: ServiceFunction[]): void {
    for (const f of functions) addFunctionAlarms(this, f.node.id, f, this.alarmTopic, { p95Duration: Duration.seconds(3) });
    const alarm = (alarmId: string, metric: cloudwatch.Metric, threshold: number, description: string) =>
      notify(metric.createAlarm(this, alarmId, {
        alarmDescription: `${this.stateMachine.node.path}: ${description}`,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }), this.alarmTopic);
    alarm('FailedExecutionsAlarm', this.stateMachine.metricFailed({ statistic: 'Sum', period: Duration.minutes(5) }), 0, 'failed saga executions');
    alarm('ExecutionTimeAlarm', this.stateMachine.metricTime({ statistic: 'p95', period: Duration.minutes(5) }), 5_000, 'execution time p95 above 5 s');
    alarm('TriggerBacklogAlarm', this.triggerDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(1) }),
      100, 'more than 100 events that could not start a saga');
  }

  private createDashboard(functions: ServiceFunction[]): cloudwatch.Dashboard {
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard');
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Sagas started, succeeded, failed', left: [this.stateMachine.metricStarted(), this.stateMachine.metricSucceeded(), this.stateMachine.metricFailed()] }),
      new cloudwatch.GraphWidget({ title: 'Saga execution time p95', left: [this.stateMachine.metricTime({ statistic: 'p95' })] }),
      new cloudwatch.GraphWidget({ title: 'Handler errors', left: functions.map((f) => f.metricErrors()) }),
      new cloudwatch.GraphWidget({ title: 'Trigger DLQ depth', left: [this.triggerDeadLetterQueue.metricApproximateNumberOfMessagesVisible()] }),
    );
    return dashboard;
  }
}
