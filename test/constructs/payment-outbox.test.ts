import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { functionNamed, snapshotOf, testApp, testStack } from './test-app';
import * as handlerEvents from '../../functions/payment-outbox/payment-events';
import { OUTBOX_STREAM_FILTER, PAYMENT_EVENT_SOURCE, PaymentEvents, PaymentOutbox } from '../../lib';

function synth(props?: ConstructorParameters<typeof PaymentOutbox>[2], stack: Stack = testStack()) {
  const outbox = new PaymentOutbox(stack, 'Payments', props);
  return { stack, outbox, template: Template.fromStack(stack) };
}

describe('PaymentOutbox', () => {
  const { template, outbox, stack } = synth();

  test('payments table: stream of new images, TTL on expiresAt, outbox index, PITR, KMS, retained by default', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: Match.objectLike({ SSEEnabled: true, SSEType: 'KMS' }),
        GlobalSecondaryIndexes: [Match.objectLike({
          IndexName: 'OutboxByTimeIndex',
          KeySchema: [{ AttributeName: 'OUTBOX_DAY', KeyType: 'HASH' }, { AttributeName: 'OUTBOX_AT', KeyType: 'RANGE' }],
        })],
      }),
    });
    const { template: destroy } = synth({ removalPolicy: RemovalPolicy.DESTROY });
    destroy.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
  });

  test('publisher reads the stream filtered to new outbox records, with bounded retries, bisection and a DLQ', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 100,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      MaximumRecordAgeInSeconds: 6 * 3600,
      ParallelizationFactor: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify(OUTBOX_STREAM_FILTER) }] },
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('PublisherDeadLetterQueue'), 'Arn'] } } },
    });
    template.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: Match.anyValue(), MessageRetentionPeriod: 14 * 86_400 });
  });

  test('webhook: POST /v1.0/webhooks/payments without API key, traced, access-logged, throttled', () => {
    const methods = template.findResources('AWS::ApiGateway::Method');
    expect(Object.values(methods).map((m: any) => [m.Properties.HttpMethod, m.Properties.ApiKeyRequired ?? false])).toEqual([['POST', false]]);
    for (const part of ['v1.0', 'webhooks', 'payments']) template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: part });
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      TracingEnabled: true,
      AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue() }),
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 })],
    });
    expect(stack.resolve(outbox.webhookUrl)).toEqual({ 'Fn::Join': ['', expect.arrayContaining(['/v1.0/webhooks/payments'])] });
  });

  test('handlers get their settings from the environment', () => {
    expect(functionNamed(template, 'payment-outbox-webhook').props).toMatchObject({
      MemorySize: 1024,
      Environment: { Variables: { SIGNATURE_TOLERANCE_SECONDS: '300', OUTBOX_RETENTION_SECONDS: String(7 * 86_400), SIGNING_SECRET_ARN: expect.anything() } },
    });
    expect(functionNamed(template, 'payment-outbox-publisher').props.Environment.Variables.EVENT_BUS_NAME).toBeDefined();
    expect(functionNamed(template, 'payment-outbox-replay').props).toMatchObject({ Timeout: 300 });
    const { template: t } = synth({ signatureTolerance: Duration.minutes(2), outboxRetention: Duration.days(30) });
    expect(functionNamed(t, 'payment-outbox-webhook').props.Environment.Variables).toMatchObject({
      SIGNATURE_TOLERANCE_SECONDS: '120', OUTBOX_RETENTION_SECONDS: String(30 * 86_400),
    });
  });

  test('least privilege: the publisher may only put events on the bus; nobody gets a * action', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as any[];
    const statementsOf = (fnId: string) =>
      policies.filter((p) => JSON.stringify(p.Properties.Roles).includes(fnId)).flatMap((p) => p.Properties.PolicyDocument.Statement);
    const publisher = statementsOf(functionNamed(template, 'payment-outbox-publisher').logicalId.replace(/[0-9A-F]{8}$/, ''));
    const publisherActions = publisher.flatMap((s: any) => [s.Action].flat());
    expect(publisherActions).toContain('events:PutEvents');
    // the stream, never the table's items
    const streamActions = ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'];
    expect(publisherActions.filter((a: string) => a.startsWith('dynamodb:') && !streamActions.includes(a))).toEqual([]);
    const webhook = statementsOf(functionNamed(template, 'payment-outbox-webhook').logicalId.replace(/[0-9A-F]{8}$/, ''));
    expect(webhook.flatMap((s: any) => [s.Action].flat())).toEqual(expect.arrayContaining(['secretsmanager:GetSecretValue', 'dynamodb:PutItem', 'dynamodb:ConditionCheckItem']));
    for (const s of policies.flatMap((p) => p.Properties.PolicyDocument.Statement)) {
      for (const action of [s.Action].flat()) expect(action).not.toMatch(/^(\*|[a-z0-9-]+:\*)$/);
    }
  });

  test('alarms: webhook 5xx, iterator age over 60 s, any message in the DLQ, errors and p95 per function', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'IteratorAge', Threshold: 60_000, Statistic: 'Maximum', AlarmActions: Match.anyValue() });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 0 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmDescription: Match.stringLikeRegexp('5xx rate above 1%') });
    // error rate + p95 for 3 functions, 5xx, DLQ depth, iterator age
    template.resourceCountIs('AWS::CloudWatch::Alarm', 9);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  test('bring your own bus, secret, alarm topic and key: none is created', () => {
    const st = testStack(testApp({ nag: false }));
    const key = kms.Key.fromKeyArn(st, 'Key', 'arn:aws:kms:eu-west-1:111111111111:key/11111111-2222-3333-4444-555555555555');
    const { template: t } = synth({
      eventBus: events.EventBus.fromEventBusName(st, 'Bus', 'company-bus'),
      signingSecret: secretsmanager.Secret.fromSecretNameV2(st, 'Secret', 'provider/signing'),
      alarmTopic: sns.Topic.fromTopicArn(st, 'Topic', 'arn:aws:sns:eu-west-1:111111111111:alarms'),
      encryptionKey: key,
    }, st);
    t.resourceCountIs('AWS::Events::EventBus', 0);
    t.resourceCountIs('AWS::SecretsManager::Secret', 0);
    t.resourceCountIs('AWS::SNS::Topic', 0);
    t.resourceCountIs('AWS::KMS::Key', 0);
    expect(functionNamed(t, 'payment-outbox-publisher').props.Environment.Variables.EVENT_BUS_NAME).toBe('company-bus');
  });

  test('a created signing secret holds {"current": <random>} under the construct key', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      KmsKeyId: Match.anyValue(),
      GenerateSecretString: Match.objectLike({ SecretStringTemplate: '{}', GenerateStringKey: 'current', PasswordLength: 48 }),
    });
  });

  test.each([
    [{ signatureTolerance: Duration.seconds(5) }, /signatureTolerance must be between 30 seconds and 1 hour/],
    [{ outboxRetention: Duration.hours(1) }, /outboxRetention must be between 1 day and 365 days/],
    [{ publisherBatchSize: 0 }, /publisherBatchSize must be an integer from 1 to 10000/],
    [{ publisherRetryAttempts: 1.5 }, /publisherRetryAttempts must be an integer from 0 to 10000/],
    [{ publisherMaxRecordAge: Duration.days(8) }, /publisherMaxRecordAge must be between 1 minute and 7 days/],
  ])('invalid props fail at synth with a message naming the fix: %j', (props, message) => {
    expect(() => synth(props)).toThrow(message);
  });

  test('event types match the handlers\' and make rule patterns', () => {
    expect(PaymentEvents).toEqual(handlerEvents.PaymentEvents);
    expect(PAYMENT_EVENT_SOURCE).toBe(handlerEvents.PAYMENT_EVENT_SOURCE);
    expect(PaymentOutbox.EVENTS).toBe(PaymentEvents);
    expect(outbox.eventPattern(PaymentEvents.SUCCEEDED)).toEqual({ source: [PAYMENT_EVENT_SOURCE], detailType: ['PaymentSucceeded'] });
    expect(outbox.eventPattern().detailType).toHaveLength(3);
  });

  test('cdk-nag AwsSolutions: no unacknowledged findings', () => {
    const app = testApp();
    new PaymentOutbox(testStack(app), 'Payments');
    expect(() => app.synth()).not.toThrow();
  });

  test('snapshot', () => {
    expect(snapshotOf(template)).toMatchSnapshot();
  });
});
