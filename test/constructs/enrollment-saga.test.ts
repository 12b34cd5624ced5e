import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { StateMachine } from 'aws-local-stepfunctions';
import { actionsOf, functionNamed, snapshotOf, testApp, testStack, statementsOf } from './test-app';
import { ENROLLMENT_EVENT_SOURCE, EnrollmentEvents, EnrollmentSaga, EnrollmentSagaProps } from '../../lib';
import { ServiceFunction } from '../../lib/core';
import { EnrollmentSagaHandlers as H } from '../../lib/enrollment-saga/contract';
import { TRANSIENT_ERRORS } from '../../lib/enrollment-saga/saga-definition';
import { synthesizedSaga } from '../enrollment-saga/saga-execution';
import { nagFindings, unmatchedAcknowledgements } from '../nag/nag-findings';

function synth(props: Partial<EnrollmentSagaProps> = {}, stack: Stack = testStack()) {
  const eventBus = props.eventBus ?? new events.EventBus(stack, 'Bus');
  const saga = new EnrollmentSaga(stack, 'Enrollment', { ...props, eventBus });
  return { stack, saga, template: Template.fromStack(stack) };
}
const PLAN = { window: 4, total: 30, intervalDays: 7, time: '09:00' };

describe('EnrollmentSaga', () => {
  const { template, saga } = synth();

  test('one enrollment table: PK/SK, sparse TopUpIndex, PITR, KMS, retained by default; idempotency table with TTL', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        KeySchema: [{ AttributeName: 'PK', KeyType: 'HASH' }, { AttributeName: 'SK', KeyType: 'RANGE' }],
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: Match.objectLike({ SSEEnabled: true, SSEType: 'KMS' }),
        GlobalSecondaryIndexes: [Match.objectLike({
          IndexName: 'TopUpIndex',
          KeySchema: [{ AttributeName: 'TOPUP_PK', KeyType: 'HASH' }, { AttributeName: 'TOPUP_SK', KeyType: 'RANGE' }],
        })],
      }),
    });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
    });
    const { template: destroy } = synth({ removalPolicy: RemovalPolicy.DESTROY });
    expect(Object.values(destroy.findResources('AWS::DynamoDB::Table')).every((t: any) => t.DeletionPolicy === 'Delete')).toBe(true);
  });

  test('Standard state machine, traced, every transition logged without execution data, 15 min limit', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }),
    });
    expect(synthesizedSaga(PLAN).definition.TimeoutSeconds).toBe(900);
  });

  test('definition: steps in order, each retried on transient errors with full jitter, each caught into compensation', () => {
    const { definition } = synthesizedSaga(PLAN);
    const order: string[] = [];
    for (let name: string | undefined = definition.StartAt; name; name = definition.States[name].Next) order.push(name);
    expect(order).toEqual([
      'CreatePurchase', 'EmitPurchaseCreated', 'AllocateTrainer', 'EmitTrainerAllocated', 'ScheduleSessions', 'EmitSessionsScheduled',
      'CompleteEnrollment', 'EmitStudentCacheInvalidated', 'EmitEnrollmentCompleted', 'EnrollmentCompleted',
    ]);
    for (const name of order.slice(0, -1)) {
      const state = definition.States[name];
      expect(state.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Compensate' }]);
      const emits = name.startsWith('Emit');
      expect(state.Retry[0]).toMatchObject({ IntervalSeconds: 1, BackoffRate: 2, MaxAttempts: emits ? 10 : 6, JitterStrategy: 'FULL' });
      if (emits) expect(state.Retry[0]).toMatchObject({ ErrorEquals: ['EventBridge.FailedEntry', 'States.TaskFailed'], MaxDelaySeconds: 60 });
    }
    for (const name of ['CreatePurchase', 'AllocateTrainer', 'ScheduleSessions', 'CompleteEnrollment']) {
      expect(definition.States[name].Retry).toEqual([expect.objectContaining({ ErrorEquals: TRANSIENT_ERRORS })]);
    }
    // task timeouts are transient too: every step is idempotent
    expect(TRANSIENT_ERRORS).toEqual(expect.arrayContaining(['Lambda.Unknown', 'Sandbox.Timedout', 'States.Timeout', 'TransientError']));
    // compensation: every error but a bad input is retried, and what still fails ends in a state of its own
    expect(definition.States.Compensate.Retry).toEqual([
      { ErrorEquals: ['ValidationError', 'ConfigurationError'], MaxAttempts: 0 },
      expect.objectContaining({ ErrorEquals: ['States.ALL'], MaxAttempts: 12, JitterStrategy: 'FULL' }),
    ]);
    expect(definition.States.Compensate.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.compensationError', Next: 'CompensationFailed' }]);
    expect(definition.States.CompensationFailed).toMatchObject({ Type: 'Fail', Error: 'CompensationFailed' });
    // business rejections are not retried: they go straight to compensation
    expect(TRANSIENT_ERRORS).not.toEqual(expect.arrayContaining(['NoTrainerAvailable']));
    expect(TRANSIENT_ERRORS).not.toEqual(expect.arrayContaining(['AlreadyEnrolled']));
    expect(definition.States.Compensate.Next).toBe('WasCompleted');
    expect(definition.States.WasCompleted).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.compensation.alreadyCompleted', BooleanEquals: true, Next: 'FailedAfterCompletion' }],
      Default: 'EmitEnrollmentFailed',
    });
    expect(definition.States.EmitEnrollmentFailed.Next).toBe('EnrollmentFailed');
    expect(definition.States.EnrollmentFailed).toMatchObject({ Type: 'Fail', Error: 'EnrollmentFailed' });
    // one fact per PutEvents: a retry re-sends only the refused fact, and the cache fact goes first
    for (const name of order.filter((n) => n.startsWith('Emit'))) expect(definition.States[name].Parameters.Entries).toHaveLength(1);
    expect(definition.States.EmitStudentCacheInvalidated.Parameters.Entries[0]['Detail.$']).toBe('$.completion.events[0]');
    expect(definition.States.EmitEnrollmentCompleted.Parameters.Entries[0]['Detail.$']).toBe('$.completion.events[1]');
  });

  test('the synthesized definition is valid Amazon States Language (and the validator does reject a broken one)', () => {
    const { definition } = synthesizedSaga(PLAN);
    expect(() => new StateMachine(definition)).not.toThrow();
    const createPurchase = { ...definition.States.CreatePurchase, Next: 'Nowhere' };
    const broken = { ...definition, States: { ...definition.States, CreatePurchase: createPurchase } };
    expect(() => new StateMachine(broken)).toThrow();
  });

  test('trigger: rule on the bus for PaymentOutbox\'s PaymentSucceeded into an encrypted queue with a DLQ', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: Match.anyValue(),
      EventPattern: { 'source': ['cdk-event-services.payment-outbox'], 'detail-type': ['PaymentSucceeded'] },
      Targets: [Match.objectLike({ DeadLetterConfig: { Arn: Match.anyValue() }, RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 185 }) })],
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 10, FunctionResponseTypes: ['ReportBatchItemFailures'] });
    const { template: custom } = synth({ triggerPattern: { source: ['shop'], detailType: ['OrderPaid'] }, triggerAccounts: ['222222222222'] });
    custom.hasResourceProperties('AWS::Events::Rule', { EventPattern: { 'source': ['shop'], 'detail-type': ['OrderPaid'] } });
    // the starter accepts exactly the pattern's sources and the given accounts (this stack's by default)
    expect(functionNamed(custom, H.starter.serviceName).props.Environment.Variables).toMatchObject({ ACCEPTED_SOURCES: 'shop', ACCEPTED_ACCOUNTS: '222222222222' });
    expect(functionNamed(template, H.starter.serviceName).props.Environment.Variables).toMatchObject({
      ACCEPTED_SOURCES: 'cdk-event-services.payment-outbox', ACCEPTED_ACCOUNTS: Stack.of(saga).resolve(Stack.of(saga).account),
    });
    // a pattern without exact sources would let any source start sagas
    expect(() => synth({ triggerPattern: { detailType: ['OrderPaid'] } })).toThrow(/triggerPattern: must name the exact `source`s/);
  });

  test('the starter may only start this state machine; steps get the session plan', () => {
    const starter = functionNamed(template, H.starter.serviceName);
    expect(starter.props.Environment.Variables.STATE_MACHINE_ARN).toEqual({ Ref: expect.stringMatching(/StateMachine/) });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'states:StartExecution', Resource: { Ref: Match.stringLikeRegexp('StateMachine') } })]) },
    });
    expect(functionNamed(template, 'enrollment-saga-schedule-sessions').props.Environment.Variables).toMatchObject({
      SESSION_WINDOW: '4', TOTAL_SESSIONS: '30', SESSION_INTERVAL_DAYS: '7', SESSION_TIME: '09:00',
    });
    const { template: t } = synth({ sessionsPerWindow: 2, totalSessions: 10, sessionIntervalDays: 3, sessionTime: '18:30' });
    expect(functionNamed(t, 'enrollment-saga-top-up').props.Environment.Variables).toMatchObject({
      SESSION_WINDOW: '2', TOTAL_SESSIONS: '10', SESSION_INTERVAL_DAYS: '3', SESSION_TIME: '18:30',
    });
  });

  test('daily top-up at 02:00 UTC by default, schedule overridable; retried for an hour, then into an alarmed DLQ', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(0 2 * * ? *)',
      Targets: [Match.objectLike({
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('TopUpDeadLetterQueue'), 'Arn'] } },
      })],
    });
    const dlqId = Object.keys(template.findResources('AWS::SQS::Queue')).find((k) => /TopUpDeadLetterQueue/.test(k))!;
    const dlqAlarm = (Object.values(template.findResources('AWS::CloudWatch::Alarm')) as any[])
      .find((a) => a.Properties.Dimensions?.[0]?.Value?.['Fn::GetAtt']?.[0] === dlqId);
    expect(dlqAlarm.Properties).toMatchObject({ MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 0 });
    const { template: t } = synth({ topUpSchedule: events.Schedule.rate(Duration.hours(6)) });
    t.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(6 hours)' });
  });

  test('limits: the starter runs at most 5 at once (prop), work queues keep 14 days, stopped executions wait a minute', () => {
    const sources = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')) as any[];
    const starterSource = sources.find((m) => m.Properties.FunctionName.Ref === functionNamed(template, H.starter.serviceName).logicalId);
    expect(starterSource.Properties).toMatchObject({ BatchSize: 10, ScalingConfig: { MaximumConcurrency: 5 }, FunctionResponseTypes: ['ReportBatchItemFailures'] });
    const { template: t } = synth({ starterMaxConcurrency: 50 });
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { ScalingConfig: { MaximumConcurrency: 50 } });
    expect(() => synth({ starterMaxConcurrency: 1 })).toThrow(/starterMaxConcurrency: must be an integer from 2 to 1000/);
    const queues = Object.entries(template.findResources('AWS::SQS::Queue')) as Array<[string, any]>;
    expect(queues).toHaveLength(7); // trigger, refund, stopped executions (+ their DLQs), top-up DLQ
    for (const [, q] of queues) expect(q.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    expect(queues.find(([k]) => /StoppedExecutionQueue[0-9A-F]{8}$/.test(k))![1].Properties.DelaySeconds).toBe(60);
  });

  test('refund consumer: PaymentRefunded of PaymentOutbox → queue → cancel-on-refund; stopped executions: status changes → queue → compensation', () => {
    const rules = Object.values(template.findResources('AWS::Events::Rule')) as any[];
    const refund = rules.find((r) => r.Properties.EventPattern?.['detail-type']?.[0] === 'PaymentRefunded');
    expect(refund.Properties).toMatchObject({
      EventBusName: { Ref: expect.stringMatching(/Bus/) },
      EventPattern: { 'source': ['cdk-event-services.payment-outbox'], 'detail-type': ['PaymentRefunded'] },
      Targets: [expect.objectContaining({
        Arn: { 'Fn::GetAtt': [expect.stringMatching(/RefundQueue[0-9A-F]{8}$/), 'Arn'] },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [expect.stringMatching(/RefundQueueDeadLetterQueue/), 'Arn'] } },
      })],
    });
    const stopped = rules.find((r) => r.Properties.EventPattern?.source?.[0] === 'aws.states');
    expect(stopped.Properties.EventBusName).toBeUndefined(); // the default bus, where Step Functions reports
    expect(stopped.Properties.EventPattern).toEqual({
      'source': ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      'detail': { stateMachineArn: [{ Ref: expect.stringMatching(/StateMachine/) }], status: ['TIMED_OUT', 'ABORTED', 'FAILED'] },
    });
    expect(functionNamed(template, H.cancelOnRefund.serviceName).props.Environment.Variables).toMatchObject({
      ACCEPTED_SOURCES: 'cdk-event-services.payment-outbox', EVENT_BUS_NAME: { Ref: expect.stringMatching(/Bus/) },
    });
    expect(functionNamed(template, H.compensateStopped.serviceName).props.Environment.Variables.STATE_MACHINE_ARN).toEqual({ Ref: expect.stringMatching(/StateMachine/) });
    const { template: t } = synth({ refundSources: ['shop.payments'] });
    t.hasResourceProperties('AWS::Events::Rule', { EventPattern: { 'source': ['shop.payments'], 'detail-type': ['PaymentRefunded'] } });
  });

  describe('no confused deputy: every statement for a service principal names the one resource that may use it', () => {
    const statementsFor = (t: Template, type: string, principal: string) => (Object.values(t.findResources(type)) as any[])
      .flatMap((r) => (r.Properties.PolicyDocument ?? r.Properties.KeyPolicy).Statement)
      .filter((st: any) => JSON.stringify(st.Principal ?? {}).includes(principal));

    test('queues: EventBridge may send only for the rule that feeds each queue and DLQ (aws:SourceArn)', () => {
      expect(saga.node.tryGetContext('@aws-cdk/aws-events:eventsTargetQueueSameAccount')).toBe(true); // whatever the app's cdk.json says
      const statements = statementsFor(template, 'AWS::SQS::QueuePolicy', 'events.amazonaws.com').filter((st) => st.Effect === 'Allow');
      expect(statements.length).toBeGreaterThanOrEqual(7); // 3 queues, 3 DLQs, the top-up DLQ
      for (const st of statements) {
        expect(st.Action).toBe('sqs:SendMessage');
        expect(st.Condition).toEqual({ ArnEquals: { 'aws:SourceArn': expect.anything() } });
      }
      const trigger = (Object.values(template.findResources('AWS::SQS::QueuePolicy')) as any[])
        .find((p) => JSON.stringify(p.Properties.Queues).match(/TriggerQueue[0-9A-F]{8}"/));
      const triggerSend = trigger.Properties.PolicyDocument.Statement.find((st: any) => st.Principal?.Service === 'events.amazonaws.com');
      expect(triggerSend.Condition.ArnEquals['aws:SourceArn']).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/TriggerRule/), 'Arn'] });
    });

    test('key: EventBridge may use it only through SQS, for queues of this account; nothing else unconditioned', () => {
      for (const st of statementsFor(template, 'AWS::KMS::Key', 'events.amazonaws.com')) {
        expect(st.Action).toEqual(['kms:GenerateDataKey', 'kms:Decrypt']);
        expect(st.Condition.StringEquals['kms:ViaService']).toBe('sqs.eu-west-1.amazonaws.com');
        expect(JSON.stringify(st.Condition.StringLike['kms:EncryptionContext:aws:sqs:arn'])).toContain(':sqs:eu-west-1:111111111111:*');
      }
      expect(statementsFor(template, 'AWS::KMS::Key', 'events.amazonaws.com')).toHaveLength(1);
      for (const type of ['AWS::KMS::Key', 'AWS::SQS::QueuePolicy', 'AWS::SNS::TopicPolicy']) {
        const policies = Object.values(template.findResources(type)) as any[];
        for (const st of policies.flatMap((r) => (r.Properties.PolicyDocument ?? r.Properties.KeyPolicy).Statement)) {
          if (st.Effect === 'Allow' && st.Principal?.Service) expect({ type, st, scoped: Boolean(st.Condition) }).toMatchObject({ scoped: true });
        }
      }
    });

    test('PutEvents: the state machine and the consumers may put this construct\'s source only', () => {
      const puts = (Object.values(template.findResources('AWS::IAM::Policy')) as any[])
        .flatMap((p) => p.Properties.PolicyDocument.Statement)
        .filter((st: any) => [st.Action].flat().includes('events:PutEvents'));
      expect(puts).toHaveLength(3); // the state machine role and the two consumers
      for (const st of puts) expect(st.Condition).toEqual({ StringEquals: { 'events:source': 'cdk-event-services.enrollment-saga' } });
    });
  });

  test('alarms: failed, timed-out and aborted executions, execution p95, trigger DLQ backlog, every DLQ and queue age, errors and p95 per function; all exposed', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ExecutionsFailed', Threshold: 0, AlarmActions: Match.anyValue() });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ExecutionsTimedOut', Threshold: 0, AlarmActions: Match.anyValue() });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ExecutionsAborted', Threshold: 0, AlarmActions: Match.anyValue() });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ExecutionTime', ExtendedStatistic: 'p95', Threshold: 5000 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 100 });
    // CompensationFailed: from the state machine's log (the Fail state entered)
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      FilterPattern: '{ ($.type = "FailStateEntered") && ($.details.name = "CompensationFailed") }',
      LogGroupName: { Ref: Match.stringLikeRegexp('StateMachineLogs') },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: Match.stringLikeRegexp('^CompensationFailed-'), Namespace: 'CdkEventServices/EnrollmentSaga', Threshold: 0, AlarmActions: Match.anyValue(),
    });
    // 9 functions x (error rate, p95) + 6 saga alarms + 3 queues x (DLQ depth, message age) + the top-up DLQ
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as any[];
    expect(alarms).toHaveLength(18 + 6 + 6 + 1);
    expect(saga.alarms).toHaveLength(alarms.length);
    expect(alarms.every((a) => a.Properties.AlarmActions?.length === 1)).toBe(true);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  test('alarm thresholds are props (defaults as before) and out-of-range ones fail at synth', () => {
    const { template: t } = synth({
      alarmThresholds: {
        functionErrorRatePercent: 2,
        functionP95Duration: Duration.millis(900),
        failedExecutions: 3,
        executionTimeP95: Duration.seconds(20),
        triggerDeadLetterBacklog: 10,
        queueMaxMessageAge: Duration.minutes(30),
      },
    });
    const thresholds = (Object.values(t.findResources('AWS::CloudWatch::Alarm')) as any[]).map((a) => a.Properties.Threshold);
    for (const value of [2, 900, 3, 20_000, 10, 1800]) expect(thresholds).toContain(value);
    expect(() => synth({ alarmThresholds: { functionErrorRatePercent: 120 } })).toThrow(/alarmThresholds.functionErrorRatePercent: must be a number from 0 to 100/);
    expect(() => synth({ alarmThresholds: { queueMaxMessageAge: Duration.seconds(10) } })).toThrow(/alarmThresholds.queueMaxMessageAge: must be between/);
  });

  describe('least privilege: each function role holds exactly the actions its code calls', () => {
    const xray = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];
    const consume = ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'];
    const idempotency = ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'];
    const undo = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'];
    const expected: Record<string, string[]> = {
      [H.starter.serviceName]: ['states:StartExecution', 'sqs:SendMessage', 'kms:GenerateDataKey', 'kms:Decrypt', ...consume, ...xray],
      [H.createPurchase.serviceName]: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:ConditionCheckItem', ...idempotency, 'kms:Decrypt', ...xray],
      [H.allocateTrainer.serviceName]: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', ...idempotency, 'kms:Decrypt', ...xray],
      [H.scheduleSessions.serviceName]: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', ...idempotency, 'kms:Decrypt', ...xray],
      [H.completeEnrollment.serviceName]: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem', ...idempotency, 'kms:Decrypt', ...xray],
      [H.compensate.serviceName]: [...undo, ...idempotency, 'kms:Decrypt', ...xray],
      [H.topUp.serviceName]: ['dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'kms:Decrypt', ...xray],
      [H.cancelOnRefund.serviceName]: [...undo, ...idempotency, 'kms:Decrypt', 'kms:GenerateDataKey', 'sqs:SendMessage', 'events:PutEvents', ...consume, ...xray],
      [H.compensateStopped.serviceName]: [...undo, ...idempotency, 'kms:Decrypt', 'events:PutEvents', ...consume, ...xray],
    };

    test.each(Object.entries(expected))('%s', (serviceName, actions) => {
      expect(actionsOf(template, serviceName)).toEqual([...new Set(actions)].sort());
    });

    test('no wildcard action, no Scan, no kms:Encrypt or ReEncrypt, no index/* on any function role; the top-up queries TopUpIndex by name', () => {
      for (const serviceName of Object.keys(expected)) {
        expect(actionsOf(template, serviceName).filter((a) => a.includes('*') || /Scan|kms:Encrypt|ReEncrypt|BatchWrite/.test(a))).toEqual([]);
        expect(JSON.stringify(statementsOf(template, serviceName))).not.toContain('index/*');
      }
      const topUpQueries = statementsOf(template, H.topUp.serviceName).filter((st: any) => st.Action === 'dynamodb:Query');
      expect(JSON.stringify(topUpQueries)).toContain('/index/TopUpIndex');
    });
  });

  test('surface: table, functions, state machine, queues, EVENTS + eventPattern(), metricErrors(); grantRead reads, grantManageCourses writes COURSE# items only', () => {
    const expose: Array<[lambda.Function, string]> = [
      [saga.starterFunction, H.starter.serviceName], [saga.createPurchaseFunction, H.createPurchase.serviceName],
      [saga.allocateTrainerFunction, H.allocateTrainer.serviceName], [saga.scheduleSessionsFunction, H.scheduleSessions.serviceName],
      [saga.completeEnrollmentFunction, H.completeEnrollment.serviceName], [saga.compensateFunction, H.compensate.serviceName],
      [saga.topUpFunction, H.topUp.serviceName], [saga.cancelOnRefundFunction, H.cancelOnRefund.serviceName],
      [saga.compensateStoppedFunction, H.compensateStopped.serviceName],
    ];
    // each exposed function is the one deployed from its handler's contract
    for (const [f, serviceName] of expose) {
      expect(f).toBeInstanceOf(ServiceFunction);
      expect((f as ServiceFunction).contract.serviceName).toBe(serviceName);
    }
    expect(saga.table.node.id).toBe('EnrollmentTable');
    expect(saga.idempotencyTable.node.id).toBe('IdempotencyTable');
    expect(EnrollmentSaga.EVENTS.ENROLLMENT_CANCELLED).toBe('EnrollmentCancelled');
    expect(saga.eventPattern(EnrollmentSaga.EVENTS.ENROLLMENT_COMPLETED)).toEqual({ source: [ENROLLMENT_EVENT_SOURCE], detailType: ['EnrollmentCompleted'] });
    expect(saga.eventPattern().detailType).toEqual(Object.values(EnrollmentEvents));
    expect(Stack.of(saga).resolve((saga.metricErrors() as any).expression)).toBe('e0 + e1 + e2 + e3 + e4 + e5 + e6 + e7 + e8');

    const st = testStack(testApp({ nag: false }));
    const s = new EnrollmentSaga(st, 'Enrollment', { eventBus: new events.EventBus(st, 'Bus') });
    const reader = new iam.Role(st, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const seeder = new iam.Role(st, 'Seeder', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    s.grantRead(reader);
    s.grantManageCourses(seeder);
    const t = Template.fromStack(st);
    const statementsOfRole = (role: string) => (Object.values(t.findResources('AWS::IAM::Policy')) as any[])
      .filter((p) => JSON.stringify(p.Properties.Roles).includes(role))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    const actions = (role: string) => statementsOfRole(role).flatMap((x: any) => [x.Action].flat());
    expect(actions('Reader')).toContain('dynamodb:Query');
    expect(actions('Reader').filter((a: string) => /Put|Update|Delete|BatchWrite/.test(a))).toEqual([]);
    const seed = statementsOfRole('Seeder').find((x: any) => [x.Action].flat().includes('dynamodb:PutItem'));
    expect([seed.Action].flat().sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
    expect(seed.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['COURSE#*'] } });
    expect(actions('Seeder').filter((a: string) => /Delete|BatchWrite|Scan|kms:Encrypt|ReEncrypt/.test(a))).toEqual([]);
  });

  test('bring your own alarm topic and key: none is created', () => {
    const st = testStack(testApp({ nag: false }));
    const { template: t } = synth({
      alarmTopic: sns.Topic.fromTopicArn(st, 'Topic', 'arn:aws:sns:eu-west-1:111111111111:alarms'),
      encryptionKey: kms.Key.fromKeyArn(st, 'Key', 'arn:aws:kms:eu-west-1:111111111111:key/11111111-2222-3333-4444-555555555555'),
      eventBus: events.EventBus.fromEventBusName(st, 'Bus', 'company-bus'),
    }, st);
    t.resourceCountIs('AWS::SNS::Topic', 0);
    t.resourceCountIs('AWS::KMS::Key', 0);
    t.resourceCountIs('AWS::Events::EventBus', 0);
    t.hasResourceProperties('AWS::Events::Rule', { EventBusName: 'company-bus' });
  });

  test.each([
    [{ sessionsPerWindow: 0 }, /sessionsPerWindow: must be an integer from 1 to 100/],
    [{ totalSessions: 2.5 }, /totalSessions: must be an integer from 1 to 1000/],
    [{ sessionIntervalDays: 400 }, /sessionIntervalDays: must be an integer from 1 to 365/],
    [{ sessionTime: '9am' }, /sessionTime: must be HH:MM \(UTC\), got '9am'/],
    [{ sessionsPerWindow: 10, totalSessions: 5 }, /sessionsPerWindow: must not exceed totalSessions \(5\), got 10/],
    [{ maxReceiveCount: 0 }, /maxReceiveCount: must be an integer from 1 to 1000/],
    [{ sagaTimeout: Duration.minutes(2) }, /sagaTimeout: must be between 10 minutes and 365 days/],
  ])('invalid props fail at synth with a message naming the fix: %j', (props, message) => {
    expect(() => synth(props)).toThrow(message);
  });

  describe('cdk-nag AwsSolutions, NIST 800-53 R5 and PCI DSS 3.2.1', () => {
    const ours = (rule: string) => /^(AwsSolutions|NIST\.800\.53\.R5|PCI\.DSS\.321)-/.test(rule);
    test.each<[string, Partial<EnrollmentSagaProps>]>([
      ['defaults', {}],
      ['removalPolicy DESTROY, log group key, custom trigger', {
        removalPolicy: RemovalPolicy.DESTROY, triggerPattern: { source: ['shop'], detailType: ['OrderPaid'] }, triggerAccounts: ['222222222222'],
      }],
    ])('%s: no unacknowledged finding, and every acknowledgement matches one', (_label, props) => {
      const stack = testStack(testApp({ nag: false }));
      const p = new EnrollmentSaga(stack, 'Enrollment', {
        eventBus: new events.EventBus(stack, 'Bus'),
        ...(props.removalPolicy ? { logEncryptionKey: new kms.Key(stack, 'LogKey', { enableKeyRotation: true }) } : {}),
        ...props,
      });
      expect(nagFindings(p)).toEqual([]);
      expect(unmatchedAcknowledgements(p).filter((a) => ours(a.rule))).toEqual([]);
    });
  });

  test('cdk-nag AwsSolutions as a validation plugin: synth passes', () => {
    const app = testApp();
    synth({}, testStack(app));
    expect(() => app.synth()).not.toThrow();
  });

  test('snapshot', () => {
    expect(snapshotOf(template)).toMatchSnapshot();
  });
});
