import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { actionsOf, functionNamed, snapshotOf, testApp, testStack, statementsOf } from './test-app';
import * as library from '../../lib';
import { PAYMENT_EVENT_SOURCE, PaymentEvents, PaymentOutbox, PaymentStatuses } from '../../lib';
import { OUTBOX_STREAM_FILTER, PaymentOutboxHandlers } from '../../lib/payment-outbox/contract';
import { acknowledgementsUnder, nagFindings, unmatchedAcknowledgements } from '../nag/nag-findings';

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
    template.hasResourceProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: true });
    const { template: destroy } = synth({ removalPolicy: RemovalPolicy.DESTROY });
    destroy.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete', Properties: Match.objectLike({ DeletionProtectionEnabled: false }) });
  });

  test('the created bus has an archive of the payment events (90 days, or archiveRetention); a bus you pass gets none', () => {
    template.resourceCountIs('AWS::Events::Archive', 1);
    template.hasResourceProperties('AWS::Events::Archive', {
      SourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('PaymentsEventBus'), 'Arn'] },
      EventPattern: { source: [PAYMENT_EVENT_SOURCE] },
      RetentionDays: 90,
    });
    expect(outbox.archive).toBeDefined();
    synth({ archiveRetention: Duration.days(400) }).template.hasResourceProperties('AWS::Events::Archive', { RetentionDays: 400 });
    const st = testStack(testApp({ nag: false }));
    const { template: t, outbox: o } = synth({ eventBus: events.EventBus.fromEventBusName(st, 'Bus', 'company-bus') }, st);
    t.resourceCountIs('AWS::Events::Archive', 0);
    expect(o.archive).toBeUndefined();
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
    // every queue keeps its messages 14 days, the maximum
    const queues = Object.values(template.findResources('AWS::SQS::Queue')) as any[];
    expect(queues.map((q) => [q.Properties.MessageRetentionPeriod, !!q.Properties.KmsMasterKeyId])).toEqual([[14 * 86_400, true]]);
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

  describe('least privilege: each function role holds exactly the actions its code calls', () => {
    const xray = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];
    const expected: Record<string, string[]> = {
      // GetItem (state, ledger), TransactWriteItems of Puts; the signing secret; the table/secret key
      [PaymentOutboxHandlers.webhook.serviceName]: ['dynamodb:GetItem', 'dynamodb:PutItem', 'kms:Decrypt', 'secretsmanager:GetSecretValue', ...xray],
      // the stream (CDK's stream grant adds kms:DescribeKey), PutEvents, and SendMessage to the on-failure DLQ
      [PaymentOutboxHandlers.publisher.serviceName]: [
        'dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams',
        'events:PutEvents', 'kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKey', 'sqs:SendMessage', ...xray,
      ],
      // Query on the outbox index, PutEvents
      [PaymentOutboxHandlers.replay.serviceName]: ['dynamodb:Query', 'events:PutEvents', 'kms:Decrypt', ...xray],
    };
    const statementWith = (t: Template, serviceName: string, action: string) =>
      statementsOf(t, serviceName).filter((st: any) => [st.Action].flat().includes(action));

    test.each(Object.entries(expected))('%s', (serviceName, actions) => {
      expect(actionsOf(template, serviceName)).toEqual([...actions].sort());
    });

    test('no wildcard action, no Scan, BatchWrite, Delete or Update, no kms:Encrypt or ReEncrypt on any role of the construct', () => {
      const roles = (Object.values(template.findResources('AWS::IAM::Policy')) as any[]).flatMap((p) => p.Properties.PolicyDocument.Statement);
      const actions = roles.flatMap((st: any) => [st.Action].flat() as string[]);
      expect(actions.filter((a) => a.includes('*') || /Scan|BatchWrite|DeleteItem|UpdateItem|kms:Encrypt|ReEncrypt/.test(a))).toEqual([]);
    });

    test('the webhook writes the table, never its index; replay queries the outbox index by name, never the table', () => {
      for (const action of ['dynamodb:GetItem', 'dynamodb:PutItem']) {
        expect(statementWith(template, PaymentOutboxHandlers.webhook.serviceName, action).map((st: any) => st.Resource))
          .toEqual([{ 'Fn::GetAtt': [expect.stringMatching(/PaymentsTable/), 'Arn'] }]);
      }
      const [query] = statementWith(template, PaymentOutboxHandlers.replay.serviceName, 'dynamodb:Query');
      expect(JSON.stringify(query.Resource)).toMatch(/"\/index\/OutboxByTimeIndex"/);
    });

    test('PutEvents carries an events:source condition naming the construct\'s own source', () => {
      for (const serviceName of [PaymentOutboxHandlers.publisher.serviceName, PaymentOutboxHandlers.replay.serviceName]) {
        expect(statementWith(template, serviceName, 'events:PutEvents')).toEqual([expect.objectContaining({
          Condition: { StringEquals: { 'events:source': PAYMENT_EVENT_SOURCE } },
          Resource: { 'Fn::GetAtt': [expect.stringMatching(/PaymentsEventBus/), 'Arn'] },
        })]);
      }
    });

    test('a secret you bring by name is read by its ARN with the -?????? suffix, and nothing more', () => {
      const st = testStack(testApp({ nag: false }));
      const { template: t } = synth({ signingSecret: secretsmanager.Secret.fromSecretNameV2(st, 'Secret', 'provider/signing') }, st);
      const [get] = statementWith(t, PaymentOutboxHandlers.webhook.serviceName, 'secretsmanager:GetSecretValue');
      expect(JSON.stringify(get.Resource)).toContain(':secret:provider/signing-??????');
      expect(actionsOf(t, PaymentOutboxHandlers.webhook.serviceName)).toEqual(expected[PaymentOutboxHandlers.webhook.serviceName].sort());
    });

    test('grantRead gives GetItem, BatchGetItem and Query on the table and the outbox index, and kms:Decrypt: nothing else', () => {
      const st = testStack(testApp({ nag: false }));
      const o = new PaymentOutbox(st, 'Payments');
      o.grantRead(new iam.Role(st, 'SupportTool', { assumedBy: new iam.AccountRootPrincipal() }));
      const policies = Template.fromStack(st).findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('SupportTool') }] } });
      const stmts = (Object.values(policies) as any[]).flatMap((p) => p.Properties.PolicyDocument.Statement);
      expect(stmts.flatMap((x: any) => [x.Action].flat()).sort()).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query', 'kms:Decrypt']);
      expect(JSON.stringify(stmts)).toContain('/index/OutboxByTimeIndex');
    });
  });

  test('every service-principal statement in a key, queue, topic or bus policy is scoped to the resource or account that uses it', () => {
    const scoping = ['aws:SourceArn', 'aws:SourceAccount', 'kms:ViaService'];
    const policies: Array<[string, any[]]> = [
      ...Object.entries(template.findResources('AWS::KMS::Key')).map(([id, r]: [string, any]) => [id, r.Properties.KeyPolicy.Statement] as [string, any[]]),
      ...['AWS::SQS::QueuePolicy', 'AWS::SNS::TopicPolicy'].flatMap((type) => Object.entries(template.findResources(type))
        .map(([id, r]: [string, any]) => [id, r.Properties.PolicyDocument.Statement] as [string, any[]])),
      ...Object.entries(template.findResources('AWS::Events::EventBusPolicy')).map(([id, r]: [string, any]) => [id, [r.Properties.Statement ?? {}]] as [string, any[]]),
    ];
    const servicePrincipalStatements = policies.flatMap(([id, statements]) =>
      statements.filter((st) => st.Effect === 'Allow' && st.Principal?.Service).map((st) => ({ id, st })));
    expect(servicePrincipalStatements.length).toBeGreaterThan(0); // CloudWatch on the alarm topic and its key
    for (const { id, st } of servicePrincipalStatements) {
      const keys = Object.values(st.Condition ?? {}).flatMap((c: any) => Object.keys(c));
      expect({ id, principal: st.Principal.Service, scoped: keys.some((k) => scoping.includes(k) || k.startsWith('kms:EncryptionContext:')) })
        .toEqual({ id, principal: st.Principal.Service, scoped: true });
    }
  });

  test('alarms: webhook 5xx, iterator age over 60 s, any message in the DLQ, errors and p95 per function; all exposed, all to the topic', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'IteratorAge', Threshold: 60_000, Statistic: 'Maximum', AlarmActions: Match.anyValue() });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 0 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmDescription: Match.stringLikeRegexp('5xx rate above 1%') });
    // error rate + p95 for 3 functions, 5xx, DLQ depth, iterator age
    template.resourceCountIs('AWS::CloudWatch::Alarm', 9);
    expect(outbox.alarms).toHaveLength(9);
    const topicId = Object.keys(template.findResources('AWS::SNS::Topic'))[0];
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm')) as any[]) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
    }
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const p95 = (t: Template, fn: string) => (Object.values(t.findResources('AWS::CloudWatch::Alarm', {
      Properties: { AlarmDescription: Match.stringLikeRegexp(`${fn}: p95 duration`) },
    })) as any[])[0].Properties.Threshold;
    expect([p95(template, 'WebhookFunction'), p95(template, 'PublisherFunction'), p95(template, 'ReplayFunction')]).toEqual([1_000, 5_000, 240_000]);
  });

  test('an alarm topic you pass, encrypted with a key of this app: CloudWatch alarms of this account may use the key', () => {
    const st = testStack(testApp({ nag: false }));
    const topicKey = new kms.Key(st, 'TopicKey', { enableKeyRotation: true });
    const { template: t } = synth({ alarmTopic: new sns.Topic(st, 'Alarms', { masterKey: topicKey }) }, st);
    const [key] = Object.values(t.findResources('AWS::KMS::Key', {
      Properties: {
        KeyPolicy: {
          Statement: Match.arrayWith([
            Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' } }),
          ]),
        },
      },
    })) as any[];
    const statement = key.Properties.KeyPolicy.Statement.find((x: any) => x.Principal?.Service === 'cloudwatch.amazonaws.com');
    expect(statement).toMatchObject({ Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Condition: { StringEquals: { 'aws:SourceAccount': '111111111111' } } });
    t.resourceCountIs('AWS::SNS::Topic', 1); // the user's; none created
  });

  test('alarm thresholds are props (defaults as before)', () => {
    const { template: t } = synth({
      alarmThresholds: {
        functionErrorRatePercent: 2,
        api5xxRatePercent: 0.5,
        webhookP95Duration: Duration.millis(500),
        publisherP95Duration: Duration.seconds(3),
        replayP95Duration: Duration.minutes(2),
        publisherIteratorAge: Duration.minutes(5),
      },
    });
    const thresholds = (Object.values(t.findResources('AWS::CloudWatch::Alarm')) as any[])
      .map((a) => [a.Properties.AlarmDescription.replace(/^.*\/Payments\//, ''), a.Properties.Threshold]);
    expect(thresholds).toEqual(expect.arrayContaining([
      ['Webhook/Api: 5xx rate above 0.5%', 0.5],
      ['WebhookFunction: error rate above 2%', 2],
      ['WebhookFunction: p95 duration above 500 ms', 500],
      ['PublisherFunction: p95 duration above 3000 ms', 3_000],
      ['ReplayFunction: p95 duration above 120000 ms', 120_000],
      ['PublisherFunction: outbox stream iterator age above 300 s (events are late)', 300_000],
    ]));
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
    [{ signatureTolerance: Duration.seconds(5) }, /signatureTolerance: must be between 30 seconds and 1 hour/],
    [{ outboxRetention: Duration.hours(1) }, /outboxRetention: must be between 1 day and 365 days/],
    [{ publisherBatchSize: 0 }, /publisherBatchSize: must be an integer from 1 to 10000/],
    [{ publisherRetryAttempts: 1.5 }, /publisherRetryAttempts: must be an integer from 0 to 10000/],
    [{ publisherMaxRecordAge: Duration.days(8) }, /publisherMaxRecordAge: must be between 1 minute and 7 days/],
    [{ archiveRetention: Duration.hours(12) }, /archiveRetention: must be between 1 day and 3650 days/],
    [{ alarmThresholds: { functionErrorRatePercent: 150 } }, /alarmThresholds.functionErrorRatePercent: must be a number from 0 to 100/],
    [{ alarmThresholds: { webhookP95Duration: Duration.minutes(1) } }, /alarmThresholds.webhookP95Duration: must be between/],
  ])('invalid props fail at synth with a message naming the fix: %j', (props, message) => {
    expect(() => synth(props)).toThrow(message);
  });

  test('uniform surface: table, EVENTS + eventPattern, metricErrors over the three handlers', () => {
    expect(PaymentOutbox.EVENTS).toBe(PaymentEvents);
    expect(outbox.eventPattern(PaymentEvents.SUCCEEDED)).toEqual({ source: [PAYMENT_EVENT_SOURCE], detailType: ['PaymentSucceeded'] });
    expect(outbox.eventPattern().detailType).toHaveLength(3);
    expect(stack.resolve(outbox.table.tableName)).toEqual({ Ref: expect.stringMatching(/PaymentsTable/) });
    expect(Object.keys((outbox.metricErrors() as any).usingMetrics)).toHaveLength(3);
    expect(PaymentStatuses.REFUNDED).toBe('refunded');
    // the public API of this context: the construct, its event constants; nothing of the kit or the contract's internals
    expect(Object.keys(library).filter((k) => /payment/i.test(k)).sort()).toEqual(['PAYMENT_EVENT_SOURCE', 'PaymentEvents', 'PaymentOutbox', 'PaymentStatuses']);
  });

  test('cdk-nag AwsSolutions: no unacknowledged findings', () => {
    const app = testApp();
    new PaymentOutbox(testStack(app), 'Payments');
    expect(() => app.synth()).not.toThrow();
  });

  describe('cdk-nag AwsSolutions, NIST 800-53 R5 and PCI DSS 3.2.1', () => {
    const ours = (rule: string) => /^(AwsSolutions|NIST\.800\.53\.R5|PCI\.DSS\.321)-/.test(rule);
    const variants: Array<[string, (st: Stack) => ConstructorParameters<typeof PaymentOutbox>[2]]> = [
      ['defaults', () => undefined],
      ['removalPolicy DESTROY', () => ({ removalPolicy: RemovalPolicy.DESTROY })],
      ['log groups with a key', (st) => ({ logEncryptionKey: new kms.Key(st, 'LogKey', { enableKeyRotation: true }) })],
      ['bus, secret, topic and key brought', (st) => ({
        eventBus: events.EventBus.fromEventBusName(st, 'Bus', 'company-bus'),
        signingSecret: secretsmanager.Secret.fromSecretNameV2(st, 'Secret', 'provider/signing'),
        alarmTopic: sns.Topic.fromTopicArn(st, 'Topic', 'arn:aws:sns:eu-west-1:111111111111:alarms'),
        encryptionKey: kms.Key.fromKeyArn(st, 'Key', 'arn:aws:kms:eu-west-1:111111111111:key/11111111-2222-3333-4444-555555555555'),
      })],
    ];
    test.each(variants)('%s: no unacknowledged finding, and every acknowledgement matches one', (_label, props) => {
      const st = testStack(testApp({ nag: false }));
      const p = new PaymentOutbox(st, 'Payments', props(st));
      expect(nagFindings(p)).toEqual([]);
      expect(unmatchedAcknowledgements(p).filter((a) => ours(a.rule))).toEqual([]);
    });

    test('the webhook API\'s acknowledgements say what is true', () => {
      const reason = (rule: string) => acknowledgementsUnder(outbox).find((a) => a.rule === rule)?.reason ?? '';
      expect(reason('AwsSolutions-APIG3')).not.toMatch(/account-level/);
      expect(reason('AwsSolutions-APIG4')).toMatch(/signature/);
      expect(acknowledgementsUnder(outbox).map((a) => a.rule)).not.toContain(
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]');
    });
  });

  test('snapshot', () => {
    expect(snapshotOf(template)).toMatchSnapshot();
  });
});
