import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { actionsOf, functionNamed, snapshotOf, statementsOf, testApp, testStack } from './test-app';
import { ApiAuthorization, BuildPipeline, LambdaRuntimeService } from '../../lib';
import {
  DEFAULT_CALLBACK_SETTINGS, DEFAULT_FUNCTION_LIMITS, DEFAULT_SCHEDULE_SETTINGS, LambdaRuntimeHandlers as H, PLATFORM_TAG_KEY,
} from '../../lib/lambda-runtime-service/contract';
import { REGISTRY_STREAM_FILTER } from '../../lib/lambda-runtime-service/lambda-runtime-service';
import { acknowledgementsUnder, nagFindings, unmatchedAcknowledgements } from '../nag/nag-findings';

type Props = ConstructorParameters<typeof LambdaRuntimeService>[2];
const NAG_RULE = /^(AwsSolutions|NIST\.800\.53\.R5|PCI\.DSS\.321)-/;
const PREFIX = 'plat';
/** `arn:{partition}:{service}:eu-west-1:111111111111:{resource}` as the template writes it. */
const arnOf = (service: string, resource: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:${service}:eu-west-1:111111111111:${resource}`]] });
const FUNCTIONS = arnOf('lambda', `function:${PREFIX}-*`);
const LIVE = arnOf('lambda', `function:${PREFIX}-*:live`);

function synth(props: Partial<Props> = {}, stack: Stack = testStack(testApp({ nag: false }))) {
  const builds = (stack.node.tryFindChild('Builds') as BuildPipeline | undefined) ?? new BuildPipeline(stack, 'Builds');
  const runtime = new LambdaRuntimeService(stack, 'Runtime', { functionPrefix: PREFIX, builds, ...props });
  return { stack, runtime, builds, template: Template.fromStack(stack) };
}

const envOf = (template: Template, serviceName: string): Record<string, any> => functionNamed(template, serviceName).props.Environment.Variables;
/** Every statement of a function's role that allows `action`. */
const allowing = (template: Template, serviceName: string, action: string) =>
  statementsOf(template, serviceName).filter((st) => [st.Action].flat().includes(action));
const resolvedResources = (stack: Stack, statements: any[]) =>
  statements.flatMap((st) => [st.Resource].flat()).map((r) => JSON.stringify(stack.resolve(r)));

describe('LambdaRuntimeService', () => {
  const { template, runtime, stack } = synth();

  test('registry table: stream of new and old images, both listing indexes, TTL, PITR, KMS, retained; audit table: TTL and its index', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        KeySchema: [{ AttributeName: 'PK', KeyType: 'HASH' }, { AttributeName: 'SK', KeyType: 'RANGE' }],
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: Match.objectLike({ SSEEnabled: true, SSEType: 'KMS' }),
        GlobalSecondaryIndexes: [
          Match.objectLike({ IndexName: 'FunctionsByNameIndex' }),
          Match.objectLike({ IndexName: 'FunctionsByCreatedIndex' }),
        ],
      }),
    });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'PK', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      GlobalSecondaryIndexes: [Match.objectLike({
        IndexName: 'FunctionInvocationsIndex',
        KeySchema: [{ AttributeName: 'FN_PK', KeyType: 'HASH' }, { AttributeName: 'FN_SK', KeyType: 'RANGE' }],
      })],
    });
  });

  test('every handler gets its contract\'s environment; JSON settings carry every field', () => {
    for (const contract of Object.values(H).filter((c) => c !== H.jwtAuthorizer)) {
      const env = envOf(template, contract.serviceName);
      for (const name of contract.environment) expect(env[name]).toBeDefined();
    }
    const deploy = envOf(template, H.deployBuilds.serviceName);
    expect(deploy.FUNCTION_NAME_PREFIX).toBe(PREFIX);
    expect(JSON.parse(deploy.PLATFORM_FUNCTION_TAGS)).toEqual({ [PLATFORM_TAG_KEY]: PREFIX });
    expect(JSON.parse(deploy.FUNCTION_LIMITS)).toEqual(DEFAULT_FUNCTION_LIMITS);
    const sync = envOf(template, H.syncRegistry.serviceName);
    expect(JSON.parse(sync.SCHEDULE_SETTINGS)).toEqual(DEFAULT_SCHEDULE_SETTINGS);
    expect(sync.SCHEDULE_GROUP_NAME).toBe(PREFIX);
    expect(JSON.parse(envOf(template, H.completeInvocations.serviceName).CALLBACK_SETTINGS)).toEqual(DEFAULT_CALLBACK_SETTINGS);
    expect(functionNamed(template, H.invoke.serviceName).props.Timeout).toBe(29);
  });

  describe('isolation of user code', () => {
    test('platform functions share one execution role whose permissions boundary is its own policy: logs, result destinations, nothing else', () => {
      const roles = template.findResources('AWS::IAM::Role', { Properties: { PermissionsBoundary: Match.anyValue() } });
      expect(Object.keys(roles)).toHaveLength(1);
      const [role] = Object.values(roles) as any[];
      expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
        expect.objectContaining({ Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }),
      ]);
      expect(role.Properties.ManagedPolicyArns).toEqual([role.Properties.PermissionsBoundary]);
      const policyId = role.Properties.PermissionsBoundary.Ref;
      const policy = template.toJSON().Resources[policyId];
      const actions = policy.Properties.PolicyDocument.Statement.flatMap((st: any) => [st.Action].flat()).sort();
      expect(actions).toEqual(['kms:Decrypt', 'kms:GenerateDataKey', 'logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'sns:Publish', 'sqs:SendMessage']);
      expect(JSON.stringify(policy.Properties.PolicyDocument)).toContain(`log-group:/aws/lambda/${PREFIX}-*`);
    });

    test('platformFunctionPolicy is granted to the role and allowed by its boundary', () => {
      const { template: t } = synth({
        platformFunctionPolicy: [new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::reports/*'] })],
      });
      const [role] = Object.values(t.findResources('AWS::IAM::Role', { Properties: { PermissionsBoundary: Match.anyValue() } })) as any[];
      const policy = t.toJSON().Resources[role.Properties.PermissionsBoundary.Ref];
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(expect.objectContaining({ Action: 's3:GetObject', Resource: 'arn:aws:s3:::reports/*' }));
    });

    test('the deployer passes the platform role and no other, to Lambda only', () => {
      const passes = allowing(template, H.deployBuilds.serviceName, 'iam:PassRole');
      expect(passes).toHaveLength(1);
      expect(passes[0].Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'lambda.amazonaws.com' } });
      expect(stack.resolve(passes[0].Resource)).toEqual(stack.resolve(runtime.platformExecutionRole.roleArn));
      expect(resolvedResources(stack, passes).some((r) => r.includes('*'))).toBe(false);
    });

    test('no service role may touch a function outside the prefix; CreateFunction needs the platform tag; invoke reaches live aliases only', () => {
      for (const contract of Object.values(H).filter((c) => c !== H.jwtAuthorizer)) {
        const lambdaStatements = statementsOf(template, contract.serviceName).filter((st) => [st.Action].flat().some((a: string) => a.startsWith('lambda:')));
        for (const r of resolvedResources(stack, lambdaStatements)) expect([FUNCTIONS, LIVE]).toContainEqual(JSON.parse(r));
      }
      for (const action of ['lambda:CreateFunction', 'lambda:TagResource']) {
        expect(allowing(template, H.deployBuilds.serviceName, action)).toEqual([
          expect.objectContaining({ Resource: FUNCTIONS, Condition: { StringEquals: { [`aws:RequestTag/${PLATFORM_TAG_KEY}`]: PREFIX } } }),
        ]);
      }
      expect(allowing(template, H.invoke.serviceName, 'lambda:InvokeFunction').map((st) => st.Resource)).toEqual([LIVE]);
    });

    test('Scheduler may use its role only for this group\'s schedules, to invoke live aliases and fill the schedule DLQ; sync passes only that role', () => {
      const roles = template.findResources('AWS::IAM::Role', {
        Properties: { AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'scheduler.amazonaws.com' } })] } },
      });
      const [role] = Object.values(roles) as any[];
      expect(role.Properties.AssumeRolePolicyDocument.Statement[0].Condition).toEqual({
        StringEquals: { 'aws:SourceAccount': '111111111111' },
        ArnLike: { 'aws:SourceArn': arnOf('scheduler', `schedule/${PREFIX}/*`) },
      });
      const passes = allowing(template, H.syncRegistry.serviceName, 'iam:PassRole');
      expect(passes).toHaveLength(1);
      expect(passes[0].Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } });
      template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: PREFIX });
    });
  });

  test('least privilege: each role is allowed exactly what its handler calls (reviewed allow-list)', () => {
    const XRAY = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];
    const SQS_SOURCE = ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'];
    const expected: Record<string, string[]> = {
      [H.registryApi.serviceName]: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem', 'kms:Decrypt', 'secretsmanager:GetSecretValue', ...XRAY],
      [H.rollback.serviceName]: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'kms:Decrypt', 'lambda:UpdateAlias', ...XRAY],
      [H.invoke.serviceName]: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'kms:Decrypt', 'lambda:InvokeFunction', ...XRAY],
      [H.readInvocations.serviceName]: ['dynamodb:GetItem', 'dynamodb:Query', 'kms:Decrypt', 'secretsmanager:GetSecretValue', ...XRAY],
      [H.deployBuilds.serviceName]: [
        'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'iam:PassRole', 'kms:Decrypt', 'kms:GenerateDataKey',
        'lambda:CreateAlias', 'lambda:CreateFunction', 'lambda:DeleteFunction', 'lambda:GetAlias', 'lambda:GetFunction', 'lambda:GetFunctionConfiguration',
        'lambda:GetFunctionEventInvokeConfig', 'lambda:PublishVersion', 'lambda:PutFunctionConcurrency', 'lambda:PutFunctionEventInvokeConfig',
        'lambda:TagResource', 'lambda:UpdateAlias', 'lambda:UpdateFunctionCode', 'lambda:UpdateFunctionConfiguration', 's3:GetObject',
        ...SQS_SOURCE, 'sqs:SendMessage', ...XRAY,
      ].sort(),
      [H.checkCanaries.serviceName]: [
        'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem', 'kms:Decrypt', 'kms:GenerateDataKey', 'lambda:GetAlias', 'lambda:UpdateAlias',
        ...SQS_SOURCE, 'sqs:SendMessage', ...XRAY,
      ].sort(),
      [H.syncRegistry.serviceName]: [
        'dynamodb:DeleteItem', 'dynamodb:DescribeStream', 'dynamodb:GetItem', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator',
        'dynamodb:ListStreams', 'dynamodb:UpdateItem', 'iam:PassRole', 'kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKey',
        'lambda:DeleteFunction', 'scheduler:CreateSchedule', 'scheduler:DeleteSchedule', 'scheduler:GetSchedule', 'scheduler:ListSchedules',
        'scheduler:UpdateSchedule', 'sqs:SendMessage', ...XRAY,
      ],
      [H.completeInvocations.serviceName]: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'kms:Decrypt', 'secretsmanager:GetSecretValue', ...SQS_SOURCE, ...XRAY].sort(),
    };
    for (const [serviceName, actions] of Object.entries(expected)) {
      expect([serviceName, actionsOf(template, serviceName)]).toEqual([serviceName, actions]);
    }
    // On `*` besides X-Ray: ListSchedules and the stream source's ListStreams, which have no resource type.
    const star = statementsOf(template, H.syncRegistry.serviceName).filter((st) => st.Resource === '*').flatMap((st) => [st.Action].flat());
    expect(star.sort()).toEqual(['dynamodb:ListStreams', 'scheduler:ListSchedules', ...XRAY]);
  });

  test('completed builds on the builds bus feed the deploy queue; EventBridge may send for that rule only', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { 'source': ['cdk-event-services.build-pipeline'], 'detail-type': ['BuildCompleted'] },
      EventBusName: { Ref: Match.stringLikeRegexp('BuildsEventBus') },
      Targets: [Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 185 }, DeadLetterConfig: Match.anyValue() })],
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify(REGISTRY_STREAM_FILTER) }] },
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  test('async failures fan out from one topic to the results queue and the async DLQ, raw, each queue accepting that topic only', () => {
    const subscriptions = Object.values(template.findResources('AWS::SNS::Subscription', { Properties: { Protocol: 'sqs' } })) as any[];
    const topicRef = { Ref: expect.stringMatching(/RuntimePlatformAsyncFailureTopic/) };
    const ours = subscriptions.filter((s) => JSON.stringify(s.Properties.TopicArn).includes('AsyncFailureTopic'));
    expect(ours).toHaveLength(2);
    for (const s of ours) expect(s.Properties).toEqual(expect.objectContaining({ RawMessageDelivery: true, TopicArn: topicRef }));
    const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy')) as any[];
    const fromTopic = policies.flatMap((p) => p.Properties.PolicyDocument.Statement).filter((st: any) => st.Principal?.Service === 'sns.amazonaws.com');
    expect(fromTopic).toHaveLength(2);
    for (const st of fromTopic) expect(st.Condition).toEqual({ ArnEquals: { 'aws:SourceArn': topicRef } });
  });

  test('REST API: registry, rollback, invoke and invocation routes, API key required', () => {
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method')) as any[];
    const ours = methods.filter((m) => JSON.stringify(m.Properties.RestApiId).includes('RuntimeRest'));
    expect(ours.map((m) => m.Properties.HttpMethod).sort()).toEqual(['DELETE', 'GET', 'GET', 'GET', 'GET', 'PATCH', 'POST', 'POST', 'POST']);
    expect(ours.every((m) => m.Properties.ApiKeyRequired === true)).toBe(true);
    for (const part of ['functions', '{name}', 'rollback', 'invoke', 'invocations', '{id}']) template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: part });
  });

  test('jwt: a token authorizer of the construct\'s own function on every method, no API keys; issuer and audience checked at synth', () => {
    const { template: t, runtime: r } = synth({ jwt: { issuer: 'https://issuer.example.com', audience: ['platform'] } });
    expect(r.jwtAuthorizerFunction).toBeDefined();
    const env = envOf(t, H.jwtAuthorizer.serviceName);
    expect(env.JWT_ISSUER).toBe('https://issuer.example.com');
    expect(JSON.parse(env.JWT_AUDIENCE)).toEqual(['platform']);
    t.hasResourceProperties('AWS::ApiGateway::Authorizer', { Type: 'TOKEN', AuthorizerResultTtlInSeconds: 300 });
    const methods = (Object.values(t.findResources('AWS::ApiGateway::Method')) as any[]).filter((m) => JSON.stringify(m.Properties.RestApiId).includes('RuntimeRest'));
    expect(methods.every((m) => m.Properties.AuthorizationType === 'CUSTOM' && !m.Properties.ApiKeyRequired)).toBe(true);
  });

  test('alarms: every one notifies the topic; platform error rate and throttles from the invoke log; DLQs; sync iterator age', () => {
    const alarms = Object.entries(template.findResources('AWS::CloudWatch::Alarm')).filter(([id]) => id.startsWith('Runtime')) as any[];
    expect(alarms.length).toBe(runtime.alarms.length);
    for (const [, a] of alarms) expect(a.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/AlarmTopic/) }]);
    const ids = alarms.map(([id]: [string]) => id).join(' ');
    for (const name of ['PlatformErrorRateAlarm', 'PlatformThrottlesAlarm', 'SyncIteratorAgeAlarm', 'SyncDeadLetterQueueDepthAlarm',
      'AsyncDeadLetterQueueDepthAlarm', 'ScheduleDeadLetterQueueDepthAlarm', 'DeployQueueDeadLetterQueueDepthAlarm', 'Api5xxRateAlarm']) {
      expect(ids).toContain(name);
    }
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      FilterPattern: '{ ($.message = "Invocation recorded") && ($.status = "throttled") }',
      MetricTransformations: [Match.objectLike({ MetricNamespace: 'CdkEventServices/LambdaRuntime', DefaultValue: 0 })],
    });
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 2);
  });

  test('grants: read the registry and audit, the callback secret, call the API', () => {
    const st = testStack(testApp({ nag: false }));
    const r = new LambdaRuntimeService(st, 'Runtime', { functionPrefix: PREFIX, builds: new BuildPipeline(st, 'Builds') });
    const reader = new iam.Role(st, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
    r.grantRead(reader);
    r.grantReadCallbackSecret(reader);
    r.grantInvoke(reader, { readOnly: true });
    const policy = Template.fromStack(st).findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('Reader') }] } });
    const actions = (Object.values(policy)[0] as any).Properties.PolicyDocument.Statement.map((s: any) => s.Action);
    expect(actions).toEqual([['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'], 'kms:Decrypt', 'secretsmanager:GetSecretValue', 'execute-api:Invoke']);
    expect(r.awsFunctionName('orders')).toBe('plat-orders');
  });

  test('cdk-nag AwsSolutions, NIST 800-53 R5, PCI DSS 3.2.1: nothing unacknowledged, every acknowledgement matches and says why', () => {
    const st = testStack(testApp({ nag: false }));
    synth({}, st);
    expect(nagFindings(st)).toEqual([]);
    expect(unmatchedAcknowledgements(st).filter((a) => NAG_RULE.test(a.rule)).map((a) => `${a.path} ${a.rule}`)).toEqual([]);
    expect(acknowledgementsUnder(st).filter((a) => NAG_RULE.test(a.rule) && a.reason.trim().length < 40)).toEqual([]);
  });

  test('with JWT authorization: cdk-nag clean too', () => {
    const st = testStack(testApp({ nag: false }));
    synth({ jwt: { issuer: 'https://issuer.example.com', audience: ['platform'] } }, st);
    expect(nagFindings(st)).toEqual([]);
    expect(unmatchedAcknowledgements(st).filter((a) => NAG_RULE.test(a.rule)).map((a) => `${a.path} ${a.rule}`)).toEqual([]);
  });

  test('invalid props fail synth naming the prop', () => {
    const cases: Array<[Partial<Props>, RegExp]> = [
      [{ functionPrefix: '1abc' }, /functionPrefix/],
      [{ functionPrefix: 'a'.repeat(24) }, /functionPrefix/],
      [{ functionPrefix: 'abc-' }, /functionPrefix/],
      [{ jwt: { issuer: 'http://issuer.example.com', audience: ['a'] } }, /jwt\.issuer/],
      [{ jwt: { issuer: 'https://issuer.example.com', audience: [] } }, /jwt\.audience/],
      [{ jwt: { issuer: 'https://issuer.example.com', audience: ['a'] }, authorization: ApiAuthorization.iam() }, /jwt: give either/],
      [{ limits: { maxMemoryMb: 64 } }, /limits\.maxMemoryMb/],
      [{ limits: { maxTimeout: Duration.minutes(16) } }, /limits\.maxTimeout/],
      [{ limits: { maxReservedConcurrency: 0 } }, /limits\.maxReservedConcurrency/],
      [{ metadataCacheTtl: Duration.minutes(10) }, /metadataCacheTtl/],
      [{ scheduleRetryAttempts: 200 }, /scheduleRetryAttempts/],
      [{ callbacks: { baseDelay: Duration.minutes(10), maxDelay: Duration.minutes(1) } }, /callbacks\.maxDelay/],
      [{ alarmThresholds: { platformErrorRatePercent: 101 } }, /alarmThresholds\.platformErrorRatePercent/],
    ];
    for (const [props, message] of cases) {
      let error: unknown;
      try {
        synth(props);
      } catch (e) {
        error = e;
      }
      expect(String(error)).toMatch(message);
      expect((error as Error).constructor.name).toBe('ValidationError');
    }
  });

  test('snapshot', () => {
    expect(snapshotOf(template)).toMatchSnapshot();
  });
});
