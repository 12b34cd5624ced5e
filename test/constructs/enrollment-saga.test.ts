import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { StateMachine } from 'aws-local-stepfunctions';
import { functionNamed, snapshotOf, testApp, testStack } from './test-app';
import * as handlerEvents from '../../functions/enrollment-saga/enrollment-events';
import { ENROLLMENT_EVENT_SOURCE, EnrollmentEvents, EnrollmentSaga, EnrollmentSagaProps } from '../../lib';
import { TRANSIENT_ERRORS } from '../../lib/enrollment-saga/saga-definition';
import { synthesizedSaga } from '../enrollment-saga/saga-execution';

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
    expect(functionNamed(custom, 'enrollment-saga-starter').props.Environment.Variables).toMatchObject({ ACCEPTED_SOURCES: 'shop', ACCEPTED_ACCOUNTS: '222222222222' });
    expect(functionNamed(template, 'enrollment-saga-starter').props.Environment.Variables).toMatchObject({
      ACCEPTED_SOURCES: 'cdk-event-services.payment-outbox', ACCEPTED_ACCOUNTS: Stack.of(saga).resolve(Stack.of(saga).account),
    });
    // a pattern without exact sources would let any source start sagas
    expect(() => synth({ triggerPattern: { detailType: ['OrderPaid'] } })).toThrow(/triggerPattern: must name the exact `source`s/);
  });

  test('the starter may only start this state machine; steps get the session plan', () => {
    const starter = functionNamed(template, 'enrollment-saga-starter');
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

  test('daily top-up at 02:00 UTC by default, schedule overridable', () => {
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(0 2 * * ? *)' });
    const { template: t } = synth({ topUpSchedule: events.Schedule.rate(Duration.hours(6)) });
    t.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(6 hours)' });
  });

  test('alarms: failed executions, execution p95 > 5 s, trigger DLQ > 100 (and > 0), errors and p95 per function; dashboard', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ExecutionsFailed', Threshold: 0, AlarmActions: Match.anyValue() });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ExecutionTime', ExtendedStatistic: 'p95', Threshold: 5000 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 100 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 0 });
    // 7 functions x (error rate, p95) + 3 saga alarms + the trigger queue's DLQ depth and message age
    template.resourceCountIs('AWS::CloudWatch::Alarm', 19);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  test('least privilege: no * action; steps reach only their table and idempotency table', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    for (const s of statements) {
      for (const action of [s.Action].flat()) expect(action).not.toMatch(/^(\*|[a-z0-9-]+:\*)$/);
    }
    const tableGrants = statements.filter((s: any) => [s.Action].flat().includes('dynamodb:PutItem'));
    for (const s of tableGrants) {
      for (const r of [s.Resource].flat()) expect(JSON.stringify(r)).toMatch(/EnrollmentTable|IdempotencyTable/);
    }
  });

  test('exposes tables, functions, state machine; grants read and trainer management', () => {
    expect(saga.stateMachine).toBeDefined();
    expect(saga.idempotencyTable.node.id).toBe('IdempotencyTable');
    expect(saga.table.node.id).toBe('EnrollmentTable');
    expect([saga.createPurchaseFunction, saga.allocateTrainerFunction, saga.scheduleSessionsFunction, saga.completeEnrollmentFunction,
      saga.compensateFunction, saga.topUpFunction, saga.starterFunction].every(Boolean)).toBe(true);
    const st = testStack(testApp({ nag: false }));
    const s = new EnrollmentSaga(st, 'Enrollment', { eventBus: new events.EventBus(st, 'Bus') });
    const reader = new iam.Role(st, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const seeder = new iam.Role(st, 'Seeder', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    s.grantRead(reader);
    s.grantManageTrainers(seeder);
    const t = Template.fromStack(st);
    const actionsOf = (role: string) => (Object.values(t.findResources('AWS::IAM::Policy')) as any[])
      .filter((p) => JSON.stringify(p.Properties.Roles).includes(role))
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .flatMap((x: any) => [x.Action].flat());
    expect(actionsOf('Reader')).toContain('dynamodb:Query');
    expect(actionsOf('Reader')).not.toContain('dynamodb:PutItem');
    expect(actionsOf('Seeder')).toContain('dynamodb:PutItem');
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

  test('event types match the handlers\'', () => {
    expect(EnrollmentEvents).toEqual(handlerEvents.EnrollmentEvents);
    expect(ENROLLMENT_EVENT_SOURCE).toBe(handlerEvents.ENROLLMENT_EVENT_SOURCE);
    expect(EnrollmentSaga.EVENTS).toBe(EnrollmentEvents);
  });

  test('cdk-nag AwsSolutions: no unacknowledged findings', () => {
    const app = testApp();
    synth({}, testStack(app));
    expect(() => app.synth()).not.toThrow();
  });

  test('snapshot', () => {
    expect(snapshotOf(template)).toMatchSnapshot();
  });
});
