import { Duration, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as lambdaEvents from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  acknowledgeFindings, addDeadLetterQueueAlarm, addFunctionAlarms, allowServiceIntoQueues, checkDuration, checkInteger, checkNumber,
  createIdempotencyTable, createLogGroup, createServiceKey, nagArn, notify, propError, ReliableQueue, resolveAlarmTopic, ServiceFunction,
  type HandlerContract,
} from '../core';
import {
  ENROLLMENT_EVENT_SOURCE, ENROLLMENT_TABLE_SCHEMA, EnrollmentEvents, EnrollmentSagaDefaults as D, EnrollmentSagaEnv as E,
  EnrollmentSagaHandlers as H, type EnrollmentEventType,
} from './contract';
import { EnrollmentSagaProps } from './enrollment-saga-props';
import { createEnrollmentTable } from './enrollment-tables';
import { sagaDefinition } from './saga-definition';
import { RuleQueueTarget } from '../core/rule-queue-target';

const READ = ['dynamodb:GetItem', 'dynamodb:Query'];

/**
 * From a confirmed payment to a scheduled course, in the background: each trigger event
 * starts one Step Functions Standard execution named after the event id; its steps check
 * the amount paid against the course, create the purchase, take a trainer seat, schedule
 * a rolling window of sessions and complete the enrollment, each idempotent and each
 * announced on the bus; a failure, a timeout or an abort is compensated, and a full
 * refund cancels the enrollment.
 */
export class EnrollmentSaga extends Construct {
  /** The saga's event types (EventBridge `detail-type`, source `cdk-event-services.enrollment-saga`), for rules and consumers. */
  public static readonly EVENTS = EnrollmentEvents;

  /** The Standard state machine: one execution per trigger event, named after its event id. */
  public readonly stateMachine: sfn.StateMachine;
  /** Purchases, courses and trainers (seeded by you, see {@link grantManageCourses}), allocations, sessions. */
  public readonly table: dynamodb.Table;
  /** Powertools idempotency records of the steps and consumers (the plan's processed_events), expiring by TTL. */
  public readonly idempotencyTable: dynamodb.Table;
  /** Trigger events waiting for the starter. */
  public readonly triggerQueue: sqs.IQueue;
  /** Trigger events that could not start a saga: refused ones at once (reason in the `refusedReason` attribute), others after `maxReceiveCount` receives. */
  public readonly triggerDeadLetterQueue: sqs.IQueue;
  /** `PaymentRefunded` events waiting for the refund consumer. */
  public readonly refundQueue: sqs.IQueue;
  /** Refunds that could not be handled (refused ones at once). */
  public readonly refundDeadLetterQueue: sqs.IQueue;
  /** Status changes of timed-out, aborted and failed executions, waiting for the stopped-execution compensation. */
  public readonly stoppedExecutionQueue: sqs.IQueue;
  /** Stopped executions whose compensation kept failing: fix the cause, then redrive this DLQ to compensate them. */
  public readonly stoppedExecutionDeadLetterQueue: sqs.IQueue;
  /** Top-up invocations the schedule could not deliver (after its retries). */
  public readonly topUpDeadLetterQueue: sqs.IQueue;
  /** The saga starter (trigger queue → StartExecution). */
  public readonly starterFunction: lambda.Function;
  /** Step 1: amount check and purchase. */
  public readonly createPurchaseFunction: lambda.Function;
  /** Step 2: a trainer seat. */
  public readonly allocateTrainerFunction: lambda.Function;
  /** Step 3: the first window of sessions. */
  public readonly scheduleSessionsFunction: lambda.Function;
  /** Step 4: the purchase becomes ACTIVE. */
  public readonly completeEnrollmentFunction: lambda.Function;
  /** The state machine's compensation. */
  public readonly compensateFunction: lambda.Function;
  /** The daily session top-up. */
  public readonly topUpFunction: lambda.Function;
  /** A fully refunded payment's enrollment cancelled. */
  public readonly cancelOnRefundFunction: lambda.Function;
  /** Compensation of executions that timed out, were aborted or failed to compensate. */
  public readonly compensateStoppedFunction: lambda.Function;
  /** Where every alarm goes. */
  public readonly alarmTopic: sns.ITopic;
  /** Every alarm this construct created (all notify {@link alarmTopic}). */
  public readonly alarms: cloudwatch.IAlarm[];
  /** Executions, handler errors, queue backlogs. */
  public readonly dashboard: cloudwatch.Dashboard;
  private readonly functions: lambda.Function[];

  constructor(scope: Construct, id: string, props: EnrollmentSagaProps) {
    super(scope, id);
    // Whatever the user's cdk.json says: a rule → queue target's policy names the rule
    // (set before any child exists, as context must be).
    this.node.setContext('@aws-cdk/aws-events:eventsTargetQueueSameAccount', true);
    const plan = this.checkedPlan(props);
    const thresholds = this.checkedThresholds(props);
    const starterMaxConcurrency = props.starterMaxConcurrency ?? 5;
    checkInteger(this, 'starterMaxConcurrency', starterMaxConcurrency, 2, 1000);
    const logRetention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;
    const logEncryptionKey = props.logEncryptionKey;
    // One key for the enrollment data and the saga's messages: every grant on it names one
    // action for one function, and a function reaches data only through the table or queue
    // permissions it also holds.
    const key: kms.IKey = props.encryptionKey ?? createServiceKey(this, 'Key', 'enrollment data and saga messages at rest');
    this.alarmTopic = resolveAlarmTopic(this, props.alarmTopic);
    this.table = createEnrollmentTable(this, key, props.removalPolicy ?? RemovalPolicy.RETAIN);
    this.idempotencyTable = createIdempotencyTable(this, key);
    const account = Stack.of(this).account;

    const planEnvironment = {
      [E.TABLE_NAME]: this.table.tableName,
      [E.SESSION_WINDOW]: String(plan.window),
      [E.TOTAL_SESSIONS]: String(plan.total),
      [E.SESSION_INTERVAL_DAYS]: String(plan.intervalDays),
      [E.SESSION_TIME]: plan.time,
    };
    const stepEnvironment = { ...planEnvironment, [E.IDEMPOTENCY_TABLE_NAME]: this.idempotencyTable.tableName };
    const fn = (fid: string, contract: HandlerContract, environment: Record<string, string>, timeout?: Duration) =>
      new ServiceFunction(this, fid, {
        contract, environment, logRetention, logEncryptionKey, sourceMaps: props.sourceMaps, ...(timeout ? { timeout } : {}),
      });
    this.createPurchaseFunction = fn('CreatePurchaseFunction', H.createPurchase, stepEnvironment);
    this.allocateTrainerFunction = fn('AllocateTrainerFunction', H.allocateTrainer, stepEnvironment);
    this.scheduleSessionsFunction = fn('ScheduleSessionsFunction', H.scheduleSessions, stepEnvironment);
    this.completeEnrollmentFunction = fn('CompleteEnrollmentFunction', H.completeEnrollment, stepEnvironment);
    this.compensateFunction = fn('CompensateFunction', H.compensate, stepEnvironment);
    this.topUpFunction = fn('TopUpFunction', H.topUp, planEnvironment, Duration.minutes(5));
    const steps = [
      this.createPurchaseFunction, this.allocateTrainerFunction, this.scheduleSessionsFunction,
      this.completeEnrollmentFunction, this.compensateFunction,
    ];

    const sagaLogs = createLogGroup(this, 'StateMachineLogs', { retention: logRetention, encryptionKey: logEncryptionKey });
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

    // Queues fed by EventBridge rules. The key lets EventBridge encrypt into them only
    // through SQS (kms:ViaService) and for queues of this account (encryption context).
    // KMS requests of EventBridge deliveries carry no aws:SourceArn/aws:SourceAccount, so
    // the queue policies are what name the one rule that may send (SourceArn).
    const queueProps = {
      alarmTopic: this.alarmTopic, encryptionKey: key, maxReceiveCount: props.maxReceiveCount, maxMessageAge: thresholds.queueMaxMessageAge,
    };
    const consumerTimeout = Duration.seconds(30);
    const trigger = new ReliableQueue(this, 'TriggerQueue', { ...queueProps, consumerTimeout });
    const refunds = new ReliableQueue(this, 'RefundQueue', { ...queueProps, consumerTimeout });
    const stopped = new ReliableQueue(this, 'StoppedExecutionQueue', { ...queueProps, consumerTimeout });
    // A step's Lambda may still be running (up to its timeout, 10 s) when its execution
    // times out or is aborted: compensation waits a minute so it sees that step's writes.
    (stopped.queue.node.defaultChild as sqs.CfnQueue).delaySeconds = 60;
    this.triggerQueue = trigger.queue;
    this.triggerDeadLetterQueue = trigger.deadLetterQueue;
    this.refundQueue = refunds.queue;
    this.refundDeadLetterQueue = refunds.deadLetterQueue;
    this.stoppedExecutionQueue = stopped.queue;
    this.stoppedExecutionDeadLetterQueue = stopped.deadLetterQueue;
    const topUpDlq = new sqs.Queue(this, 'TopUpDeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: key, enforceSSL: true, retentionPeriod: Duration.days(14),
    });
    this.topUpDeadLetterQueue = topUpDlq;
    // This construct's key encrypts only this construct's queues and tables.
    allowServiceIntoQueues(this, key, 'EventBridgeDeliversIntoThisConstructsQueues', 'events.amazonaws.com');

    const triggerPattern = props.triggerPattern ?? { source: [...D.triggerSources], detailType: [...D.triggerDetailTypes] };
    const triggerSources = this.sourcesOf('triggerPattern', triggerPattern.source);
    const refundSources = this.sourcesOf('refundSources', props.refundSources ?? [...D.refundSources]);
    const accounts = (props.triggerAccounts ?? [account]).join(',');
    new events.Rule(this, 'TriggerRule', { eventBus: props.eventBus, eventPattern: triggerPattern, targets: [new RuleQueueTarget(trigger)] });
    new events.Rule(this, 'RefundRule', {
      eventBus: props.eventBus,
      eventPattern: { source: refundSources, detailType: [...D.refundDetailTypes] },
      targets: [new RuleQueueTarget(refunds)],
    });
    // Step Functions reports status changes on the account's default bus.
    new events.Rule(this, 'StoppedExecutionRule', {
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { stateMachineArn: [this.stateMachine.stateMachineArn], status: ['TIMED_OUT', 'ABORTED', 'FAILED'] },
      },
      targets: [new RuleQueueTarget(stopped)],
    });

    this.starterFunction = fn('StarterFunction', H.starter, {
      [E.STATE_MACHINE_ARN]: this.stateMachine.stateMachineArn,
      [E.ACCEPTED_SOURCES]: triggerSources.join(','),
      [E.ACCEPTED_ACCOUNTS]: accounts,
      [E.DEAD_LETTER_QUEUE_URL]: trigger.deadLetterQueue.queueUrl,
    }, consumerTimeout);
    this.cancelOnRefundFunction = fn('CancelOnRefundFunction', H.cancelOnRefund, {
      [E.TABLE_NAME]: this.table.tableName,
      [E.IDEMPOTENCY_TABLE_NAME]: this.idempotencyTable.tableName,
      [E.ACCEPTED_SOURCES]: refundSources.join(','),
      [E.ACCEPTED_ACCOUNTS]: accounts,
      [E.DEAD_LETTER_QUEUE_URL]: refunds.deadLetterQueue.queueUrl,
      [E.EVENT_BUS_NAME]: props.eventBus.eventBusName,
    }, consumerTimeout);
    this.compensateStoppedFunction = fn('CompensateStoppedFunction', H.compensateStopped, {
      [E.TABLE_NAME]: this.table.tableName,
      [E.IDEMPOTENCY_TABLE_NAME]: this.idempotencyTable.tableName,
      [E.STATE_MACHINE_ARN]: this.stateMachine.stateMachineArn,
      [E.EVENT_BUS_NAME]: props.eventBus.eventBusName,
    }, consumerTimeout);
    this.starterFunction.addEventSource(new lambdaEvents.SqsEventSource(trigger.queue, {
      batchSize: 10, reportBatchItemFailures: true, maxConcurrency: starterMaxConcurrency,
    }));
    for (const [consumer, queue] of [[this.cancelOnRefundFunction, refunds], [this.compensateStoppedFunction, stopped]] as const) {
      consumer.addEventSource(new lambdaEvents.SqsEventSource(queue.queue, { batchSize: 10, reportBatchItemFailures: true, maxConcurrency: 2 }));
    }

    this.grantLeastPrivilege(key, props.eventBus, [trigger, refunds]);

    new events.Rule(this, 'TopUpSchedule', {
      schedule: props.topUpSchedule ?? events.Schedule.cron({ minute: '0', hour: '2' }),
      // A missed invocation is retried for an hour, then kept in its DLQ (alarmed): the
      // next day's top-up catches up anyway, the DLQ says that a day was skipped.
      targets: [new targets.LambdaFunction(this.topUpFunction, { retryAttempts: 3, maxEventAge: Duration.hours(1), deadLetterQueue: topUpDlq })],
    });
    addDeadLetterQueueAlarm(this, 'TopUpDeadLetterQueue', topUpDlq, this.alarmTopic);

    this.functions = [...steps, this.topUpFunction, this.starterFunction, this.cancelOnRefundFunction, this.compensateStoppedFunction];
    this.addAlarms(thresholds);
    // CompensationFailed gets an alarm of its own: what it holds stays held until compensated.
    const compensationFailed = new logs.MetricFilter(this, 'CompensationFailedFilter', {
      logGroup: sagaLogs,
      metricNamespace: 'CdkEventServices/EnrollmentSaga',
      metricName: `CompensationFailed-${Names.uniqueId(this)}`.slice(0, 255),
      filterPattern: logs.FilterPattern.all(
        logs.FilterPattern.stringValue('$.type', '=', 'FailStateEntered'),
        logs.FilterPattern.stringValue('$.details.name', '=', 'CompensationFailed'),
      ),
      metricValue: '1',
    });
    notify(compensationFailed.metric({ statistic: 'Sum', period: Duration.minutes(5) }).createAlarm(this, 'CompensationFailedAlarm', {
      alarmDescription: `${this.stateMachine.node.path}: an execution ended in CompensationFailed (seat, purchase or guards still held; ` +
        'compensated again from its status change, see stoppedExecutionDeadLetterQueue)',
      threshold: 0,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }), this.alarmTopic);
    this.dashboard = this.createDashboard([trigger, refunds, stopped]);
    this.alarms = this.node.findAll().filter((c): c is cloudwatch.Alarm => c instanceof cloudwatch.Alarm);
    this.acknowledgeFindings(steps, topUpDlq);
  }

  /**
   * A rule pattern for this construct's events on its bus, e.g.
   * `eventPattern(EnrollmentSaga.EVENTS.ENROLLMENT_COMPLETED)`; with no types, every saga event.
   */
  public eventPattern(...types: EnrollmentEventType[]): events.EventPattern {
    return { source: [ENROLLMENT_EVENT_SOURCE], detailType: types.length > 0 ? types : Object.values(EnrollmentEvents) };
  }

  /** Lets `grantee` read enrollments (purchases, courses, trainers, allocations, sessions): GetItem, Query, Scan and `kms:Decrypt`. */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.table.grantReadData(grantee);
  }

  /**
   * Lets `grantee` seed and update courses and their trainers (README, "Seeding courses and
   * trainers"): GetItem, Query, PutItem and UpdateItem on the items whose partition key is
   * `COURSE#…` only (`dynamodb:LeadingKeys`), and the key use that takes. Purchases,
   * allocations and sessions stay the saga's. There is no `grantWrite`: enrollments are
   * written by the saga alone.
   */
  public grantManageCourses(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      resourceArns: [this.table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['COURSE#*'] } },
    });
    this.table.encryptionKey?.grant(grantee, 'kms:Decrypt');
    return grant;
  }

  /** @deprecated use {@link grantManageCourses} (courses now carry their price too). */
  public grantManageTrainers(grantee: iam.IGrantable): iam.Grant {
    return this.grantManageCourses(grantee);
  }

  /** Errors of all the saga's functions, summed. */
  public metricErrors(props?: cloudwatch.MetricOptions): cloudwatch.IMetric {
    const usingMetrics = Object.fromEntries(this.functions.map((f, i) => [`e${i}`, f.metricErrors(props)]));
    return new cloudwatch.MathExpression({ expression: Object.keys(usingMetrics).join(' + '), usingMetrics, label: 'Saga handler errors' });
  }

  /** Each function gets exactly the actions its code calls (a construct test lists them per role). */
  private grantLeastPrivilege(key: kms.IKey, bus: events.IEventBus, refusing: ReliableQueue[]): void {
    const table = this.table;
    const idempotent = (f: lambda.Function) =>
      this.idempotencyTable.grant(f, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem');
    // DynamoDB encrypts and decrypts with the table key under its own grant; a caller needs kms:Decrypt.
    const decrypt = (f: lambda.Function) => key.grant(f, 'kms:Decrypt');
    // Grants name the table only (never its indexes), except the top-up's Query on TopUpIndex.
    const on = (f: lambda.Function, ...actions: string[]) => iam.Grant.addToPrincipal({ grantee: f, actions, resourceArns: [table.tableArn] });
    // create-purchase: GetItem (purchase, course); one transaction of two Puts and a ConditionCheck (the refund record).
    on(this.createPurchaseFunction, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:ConditionCheckItem');
    // allocate-trainer: GetItem, Query (the course's trainers), a transaction of an Update and two Puts.
    on(this.allocateTrainerFunction, ...READ, 'dynamodb:PutItem', 'dynamodb:UpdateItem');
    // schedule-sessions: GetItem, a Put per session, an Update when fully scheduled.
    on(this.scheduleSessionsFunction, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem');
    // complete-enrollment: a transaction of an Update and a ConditionCheck, then GetItem.
    on(this.completeEnrollmentFunction, 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem');
    // compensate / the two consumers: GetItem, Query (sessions), Put (failure or refund record),
    // transactions of Updates and guard Deletes, Updates of sessions.
    const undo = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'];
    for (const f of [this.compensateFunction, this.cancelOnRefundFunction, this.compensateStoppedFunction]) on(f, ...undo);
    // top-up: Query on TopUpIndex and on the table (sessions), Put per session, Update when fully scheduled.
    on(this.topUpFunction, 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem');
    iam.Grant.addToPrincipal({
      grantee: this.topUpFunction,
      actions: ['dynamodb:Query'],
      resourceArns: [`${table.tableArn}/index/${ENROLLMENT_TABLE_SCHEMA.topUpIndex.indexName}`],
    });
    const tableUsers = [
      this.createPurchaseFunction, this.allocateTrainerFunction, this.scheduleSessionsFunction, this.completeEnrollmentFunction,
      this.compensateFunction, this.topUpFunction, this.cancelOnRefundFunction, this.compensateStoppedFunction,
    ];
    for (const f of tableUsers) decrypt(f);
    for (const f of tableUsers.filter((user) => user !== this.topUpFunction)) idempotent(f);
    this.stateMachine.grantStartExecution(this.starterFunction);
    // The starter and the refund consumer move refused events to their DLQ themselves.
    for (const [f, q] of [[this.starterFunction, refusing[0]], [this.cancelOnRefundFunction, refusing[1]]] as const) {
      iam.Grant.addToPrincipal({ grantee: f, actions: ['sqs:SendMessage'], resourceArns: [q.deadLetterQueue.queueArn] });
      key.grant(f, 'kms:GenerateDataKey', 'kms:Decrypt');
    }
    // The consumers outside the state machine put the saga's facts on the bus, under this construct's source only.
    for (const f of [this.cancelOnRefundFunction, this.compensateStoppedFunction]) {
      f.addToRolePolicy(new iam.PolicyStatement({
        actions: ['events:PutEvents'],
        resources: [bus.eventBusArn],
        conditions: { StringEquals: { 'events:source': ENROLLMENT_EVENT_SOURCE } },
      }));
    }
  }

  /** The exact `source`s a pattern matches: the consumer refuses every other source. */
  private sourcesOf(prop: string, sources: string[] | undefined): string[] {
    if (!sources || sources.length === 0 || !sources.every((s) => typeof s === 'string' && s.length > 0)) {
      throw propError(this, prop, 'must name the exact `source`s to accept (e.g. PaymentOutbox\'s ' +
        `'${D.triggerSources[0]}'), so that events of other sources on the bus can start or cancel nothing`);
    }
    return sources;
  }

  private checkedPlan(props: EnrollmentSagaProps) {
    const plan = {
      window: props.sessionsPerWindow ?? D.sessionsPerWindow,
      total: props.totalSessions ?? D.totalSessions,
      intervalDays: props.sessionIntervalDays ?? D.sessionIntervalDays,
      time: props.sessionTime ?? D.sessionTime,
      sagaTimeout: props.sagaTimeout ?? Duration.minutes(D.sagaTimeoutMinutes),
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

  private checkedThresholds(props: EnrollmentSagaProps) {
    const t = props.alarmThresholds ?? {};
    checkNumber(this, 'alarmThresholds.functionErrorRatePercent', t.functionErrorRatePercent, 0, 100);
    checkDuration(this, 'alarmThresholds.functionP95Duration', t.functionP95Duration, Duration.millis(1), Duration.minutes(15));
    checkInteger(this, 'alarmThresholds.failedExecutions', t.failedExecutions, 0, 1_000_000);
    checkDuration(this, 'alarmThresholds.executionTimeP95', t.executionTimeP95, Duration.millis(1), Duration.days(365));
    checkInteger(this, 'alarmThresholds.triggerDeadLetterBacklog', t.triggerDeadLetterBacklog, 1, 1_000_000);
    checkDuration(this, 'alarmThresholds.queueMaxMessageAge', t.queueMaxMessageAge, Duration.minutes(1), Duration.days(14));
    return {
      functionErrorRatePercent: t.functionErrorRatePercent ?? 5,
      functionP95Duration: t.functionP95Duration ?? Duration.seconds(3),
      failedExecutions: t.failedExecutions ?? 0,
      executionTimeP95: t.executionTimeP95 ?? Duration.seconds(5),
      triggerDeadLetterBacklog: t.triggerDeadLetterBacklog ?? 100,
      queueMaxMessageAge: t.queueMaxMessageAge ?? Duration.minutes(5),
    };
  }

  private addAlarms(thresholds: ReturnType<EnrollmentSaga['checkedThresholds']>): void {
    for (const f of this.functions) {
      addFunctionAlarms(this, f.node.id, f, this.alarmTopic, {
        errorRatePercent: thresholds.functionErrorRatePercent, p95Duration: thresholds.functionP95Duration,
      });
    }
    const alarm = (alarmId: string, metric: cloudwatch.Metric, threshold: number, description: string) =>
      notify(metric.createAlarm(this, alarmId, {
        alarmDescription: `${this.stateMachine.node.path}: ${description}`,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }), this.alarmTopic);
    const sum = { statistic: 'Sum', period: Duration.minutes(5) };
    alarm('FailedExecutionsAlarm', this.stateMachine.metricFailed(sum), thresholds.failedExecutions,
      `more than ${thresholds.failedExecutions} failed saga executions in 5 minutes (compensated, kept after completion, or CompensationFailed)`);
    alarm('TimedOutExecutionsAlarm', this.stateMachine.metricTimedOut(sum), 0, 'a saga execution timed out (compensated from its status change)');
    alarm('AbortedExecutionsAlarm', this.stateMachine.metricAborted(sum), 0, 'a saga execution was aborted (compensated from its status change)');
    const p95 = thresholds.executionTimeP95.toMilliseconds();
    alarm('ExecutionTimeAlarm', this.stateMachine.metricTime({ statistic: 'p95', period: Duration.minutes(5) }), p95, `execution time p95 above ${p95} ms`);
    alarm('TriggerBacklogAlarm', this.triggerDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(1) }),
      thresholds.triggerDeadLetterBacklog, `more than ${thresholds.triggerDeadLetterBacklog} events that could not start a saga`);
  }

  private createDashboard(queues: ReliableQueue[]): cloudwatch.Dashboard {
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard');
    const m = this.stateMachine;
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Sagas started, succeeded, failed, timed out, aborted',
        left: [m.metricStarted(), m.metricSucceeded(), m.metricFailed(), m.metricTimedOut(), m.metricAborted()],
      }),
      new cloudwatch.GraphWidget({ title: 'Saga execution time p95', left: [m.metricTime({ statistic: 'p95' })] }),
      new cloudwatch.GraphWidget({ title: 'Handler errors', left: this.functions.map((f) => f.metricErrors()) }),
      new cloudwatch.GraphWidget({
        title: 'Trigger, refund and stopped-execution queues: oldest message age and DLQ depth',
        left: queues.map((q) => q.queue.metricApproximateAgeOfOldestMessage()),
        right: [...queues.map((q) => q.deadLetterQueue), this.topUpDeadLetterQueue].map((q) => q.metricApproximateNumberOfMessagesVisible()),
      }),
    );
    return dashboard;
  }

  private acknowledgeFindings(steps: lambda.Function[], topUpDlq: sqs.Queue): void {
    acknowledgeFindings(topUpDlq, {
      'AwsSolutions-SQS3': 'This queue is itself a dead-letter queue (the top-up schedule\'s); its depth alarm pages on the first message.',
    });
    acknowledgeFindings(this.stateMachine, {
      'AwsSolutions-IAM5[Resource::*]': 'X-Ray trace segments and CloudWatch Logs delivery have no resource-level permissions.',
      ...Object.fromEntries(['NIST.800.53.R5', 'PCI.DSS.321'].map((pack) => [`${pack}-IAMNoInlinePolicy`,
        'CDK writes the state machine role\'s statements (invoke these five functions, put events on the bus under this ' +
        'construct\'s source, X-Ray, log delivery) as the role\'s own policy; a managed policy would be a separate, attachable ' +
        'object that no other role should get.'])),
      ...Object.fromEntries(steps.map((f) => [
        `AwsSolutions-IAM5[Resource::${nagArn(f)}:*]`, 'CDK\'s invoke grant covers the versions and aliases of this saga\'s own step function.',
      ])),
    });
  }
}
