import { Duration, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { actionsOf, functionNamed, snapshotOf, statementsOf, testApp, testStack } from './test-app';
import { WORKER_MAX_RECEIVES } from '../../functions/build-pipeline/build-worker-logic';
import * as library from '../../lib';
import { ApiAuthorization, BUILD_EVENT_SOURCE, BuildEvents, BuildPipeline, ProductApiAuthorization } from '../../lib';
import { JOB_STREAM_FILTER } from '../../lib/build-pipeline/build-pipeline';
import {
  BuildPipelineHandlers as H, CONTAINER_BUILDS_DISABLED, DEFAULT_BUILD_JOB_SETTINGS, DEFAULT_WEBHOOK_SETTINGS, DEFAULT_ZIP_LIMITS,
} from '../../lib/build-pipeline/contract';
import { acknowledgementsUnder, nagFindings, unmatchedAcknowledgements } from '../nag/nag-findings';

type Props = ConstructorParameters<typeof BuildPipeline>[2];

function synth(props?: Props, stack: Stack = testStack(testApp({ nag: false }))) {
  const pipeline = new BuildPipeline(stack, 'Builds', props);
  return { stack, pipeline, template: Template.fromStack(stack) };
}

/** A value as a handler reads it from its environment. */
const envOf = (template: Template, serviceName: string): Record<string, unknown> => functionNamed(template, serviceName).props.Environment.Variables;
const RUNTIME = new Set(['POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_LOG_LEVEL', 'NODE_OPTIONS']);
/** `{ Fn::GetAtt: [<id matching pattern>, Arn] }`, for jest's toEqual (`mref` for Template matchers). */
const ref = (pattern: string) => ({ 'Fn::GetAtt': [expect.stringMatching(pattern), 'Arn'] });
const mref = (pattern: string) => ({ 'Fn::GetAtt': [Match.stringLikeRegexp(pattern), 'Arn'] });
const objects = (bucket: string, prefix: string) => ({ 'Fn::Join': ['', [ref(bucket), `/${prefix}`]] });
const NAG_RULE = /^(AwsSolutions|NIST\.800\.53\.R5|PCI\.DSS\.321)-/;

describe('BuildPipeline', () => {
  const { template, pipeline, stack } = synth();

  test('jobs table: both sparse indexes (AwaitingUploadIndex keys only), stream of new and old images, TTL, PITR, KMS, retained', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        KeySchema: [{ AttributeName: 'PK', KeyType: 'HASH' }, { AttributeName: 'SK', KeyType: 'RANGE' }],
        BillingMode: 'PAY_PER_REQUEST',
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: Match.objectLike({ SSEEnabled: true, SSEType: 'KMS' }),
        DeletionProtectionEnabled: true,
        GlobalSecondaryIndexes: [
          Match.objectLike({
            IndexName: 'FunctionBuildsIndex',
            KeySchema: [{ AttributeName: 'FN_PK', KeyType: 'HASH' }, { AttributeName: 'FN_SK', KeyType: 'RANGE' }],
            Projection: { ProjectionType: 'ALL' },
          }),
          Match.objectLike({
            IndexName: 'AwaitingUploadIndex',
            KeySchema: [{ AttributeName: 'AW_PK', KeyType: 'HASH' }, { AttributeName: 'AW_SK', KeyType: 'RANGE' }],
            Projection: { ProjectionType: 'KEYS_ONLY' },
          }),
        ],
      }),
    });
    const { template: destroy } = synth({ removalPolicy: RemovalPolicy.DESTROY });
    destroy.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete', Properties: Match.objectLike({ DeletionProtectionEnabled: false }) });
  });

  test('buckets: KMS, TLS only, never public, access-logged; uploads deleted after a day, artifacts after artifactRetention', () => {
    const buckets = template.findResources('AWS::S3::Bucket');
    expect(Object.keys(buckets)).toHaveLength(3); // uploads, artifacts, their access logs
    const blockAll = { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true };
    for (const b of Object.values(buckets) as any[]) expect(b.Properties.PublicAccessBlockConfiguration).toEqual(blockAll);
    for (const name of ['UploadsBucket', 'ArtifactsBucket']) {
      const [bucket] = Object.entries(buckets).filter(([id]) => id.includes(name)).map(([, b]) => b as any);
      expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0]).toEqual({
        BucketKeyEnabled: true,
        ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: ref('BuildsKey') },
      });
      expect(bucket.Properties.LoggingConfiguration.DestinationBucketName).toEqual({ Ref: expect.stringMatching(/AccessLogsBucket/) });
    }
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: [{ Id: 'DeleteUploads', Prefix: 'uploads/', ExpirationInDays: 1, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' }] },
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: [{ Id: 'ExpireBuilds', Prefix: 'builds/', ExpirationInDays: 90, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' }] },
    });
    synth({ artifactRetention: Duration.days(400) }).template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: [Match.objectLike({ Id: 'ExpireBuilds', ExpirationInDays: 400 })] },
    });
    // every bucket policy denies plain HTTP
    for (const p of Object.values(template.findResources('AWS::S3::BucketPolicy')) as any[]) {
      expect(p.Properties.PolicyDocument.Statement).toContainEqual(expect.objectContaining({
        Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }));
    }
  });

  test('an uploaded uploads/*.zip notifies the build queue; S3 may send to it only for this bucket and account', () => {
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: Match.stringLikeRegexp('UploadsBucket') },
      NotificationConfiguration: {
        QueueConfigurations: [{
          Events: ['s3:ObjectCreated:*'],
          Filter: { Key: { FilterRules: [{ Name: 'suffix', Value: '.zip' }, { Name: 'prefix', Value: 'uploads/' }] } },
          QueueArn: mref('BuildsBuildQueue'),
        }],
      },
    });
    const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy')) as any[];
    const s3Statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement).filter((st: any) => st.Principal?.Service === 's3.amazonaws.com');
    expect(s3Statements).toEqual([{
      Sid: 'UploadsBucketNotifications',
      Effect: 'Allow',
      Principal: { Service: 's3.amazonaws.com' },
      Action: 'sqs:SendMessage',
      Resource: ref('BuildsBuildQueue'),
      Condition: { ArnEquals: { 'aws:SourceArn': ref('UploadsBucket') }, StringEquals: { 'aws:SourceAccount': '111111111111' } },
    }]);
  });

  test('every service principal in the key policy is scoped (ViaService + encryption context, or source account/ARN)', () => {
    const keys = Object.values(template.findResources('AWS::KMS::Key')) as any[];
    const statements = keys.flatMap((k) => k.Properties.KeyPolicy.Statement).filter((st: any) => st.Principal?.Service);
    expect(statements.length).toBeGreaterThanOrEqual(3);
    for (const st of statements) {
      const conditions = JSON.stringify(st.Condition ?? {});
      expect(conditions).toMatch(/kms:ViaService|aws:SourceAccount|kms:EncryptionContext/);
    }
    const serviceOf = (service: string) => statements.find((st: any) => JSON.stringify(st.Principal.Service).includes(service));
    for (const service of ['s3.amazonaws.com', 'events.amazonaws.com']) {
      expect(serviceOf(service).Condition).toEqual({
        StringEquals: { 'kms:ViaService': 'sqs.eu-west-1.amazonaws.com' },
        StringLike: { 'kms:EncryptionContext:aws:sqs:arn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':sqs:eu-west-1:111111111111:*']] } },
      });
      // EventBridge's KMS requests carry no aws:SourceArn: a condition on it would drop every delivery
      expect(JSON.stringify(serviceOf(service).Condition)).not.toContain('aws:Source');
    }
  });

  test('queues: build queue redrives after the worker\'s WORKER_MAX_RECEIVES, webhook queue after webhook.maxAttempts; 14 days, KMS', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 6 * 15 * 60,
      RedrivePolicy: { deadLetterTargetArn: mref('BuildsBuildQueueDeadLetterQueue'), maxReceiveCount: WORKER_MAX_RECEIVES },
    });
    const webhookTimeout = functionNamed(template, H.deliverWebhooks.serviceName).props.Timeout;
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 6 * webhookTimeout,
      RedrivePolicy: { deadLetterTargetArn: mref('BuildsWebhookQueueDeadLetterQueue'), maxReceiveCount: DEFAULT_WEBHOOK_SETTINGS.maxAttempts },
    });
    synth({ webhook: { maxAttempts: 3 } }).template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { deadLetterTargetArn: mref('BuildsWebhookQueueDeadLetterQueue'), maxReceiveCount: 3 },
    });
    const queues = Object.values(template.findResources('AWS::SQS::Queue')) as any[];
    expect(queues).toHaveLength(6); // build + DLQ, webhook + DLQ, publisher DLQ, invocation DLQ
    expect(queues.every((q) => q.Properties.MessageRetentionPeriod === 14 * 86_400 && q.Properties.KmsMasterKeyId)).toBe(true);
  });

  test('every handler gets exactly its contract\'s environment; JSON settings carry every field', () => {
    const fns = Object.values(template.findResources('AWS::Lambda::Function')) as any[];
    const ours = fns.filter((f) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME);
    expect(ours).toHaveLength(7); // no container-state function without container builds
    for (const contract of Object.values(H).filter((c) => c !== H.containerBuildFinished)) {
      const env = envOf(template, contract.serviceName);
      expect(Object.keys(env).filter((k) => !RUNTIME.has(k)).sort()).toEqual([...contract.environment].sort());
    }
    const worker = envOf(template, H.worker.serviceName);
    expect(JSON.parse(worker.BUILD_ZIP_LIMITS as string)).toEqual(DEFAULT_ZIP_LIMITS);
    expect(JSON.parse(worker.BUILD_JOB_SETTINGS as string)).toEqual(DEFAULT_BUILD_JOB_SETTINGS);
    expect(worker.CONTAINER_BUILD_PROJECT).toBe(CONTAINER_BUILDS_DISABLED);
    expect(envOf(template, H.createBuild.serviceName).CONTAINER_BUILD_PROJECT).toBe(CONTAINER_BUILDS_DISABLED);
    expect(JSON.parse(envOf(template, H.deliverWebhooks.serviceName).BUILD_WEBHOOK_SETTINGS as string)).toEqual(DEFAULT_WEBHOOK_SETTINGS);
    expect(JSON.parse(envOf(template, H.rotateWebhookSecret.serviceName).BUILD_WEBHOOK_SETTINGS as string)).toEqual(DEFAULT_WEBHOOK_SETTINGS);

    const custom = synth({
      maxUploadSize: Size.mebibytes(10),
      maxEntries: 500,
      maxUncompressedSize: Size.mebibytes(100),
      maxCompressionRatio: 50,
      uploadWindow: Duration.minutes(30),
      jobRetention: Duration.days(7),
      idempotencyKeyWindow: Duration.hours(1),
      webhook: {
        maxAttempts: 4,
        baseDelay: Duration.seconds(2),
        maxDelay: Duration.minutes(10),
        timeout: Duration.seconds(5),
        rotationOverlap: Duration.hours(2),
      },
    }).template;
    expect(JSON.parse(envOf(custom, H.createBuild.serviceName).BUILD_ZIP_LIMITS as string)).toEqual({
      ...DEFAULT_ZIP_LIMITS, maxUploadBytes: 10 * 1024 * 1024, maxEntries: 500, maxTotalUncompressedBytes: 100 * 1024 * 1024, maxCompressionRatio: 50,
    });
    expect(JSON.parse(envOf(custom, H.expireUploads.serviceName).BUILD_JOB_SETTINGS as string)).toEqual({
      ...DEFAULT_BUILD_JOB_SETTINGS, uploadWindowSeconds: 1800, jobRetentionSeconds: 7 * 86_400, idempotencyKeySeconds: 3600,
    });
    expect(JSON.parse(envOf(custom, H.deliverWebhooks.serviceName).BUILD_WEBHOOK_SETTINGS as string)).toEqual({
      maxAttempts: 4, baseDelayMs: 2000, maxDelayMs: 600_000, timeoutMs: 5000, allowHttp: false, rotationOverlapSeconds: 7200,
    });
  });

  test('worker: 2048 MB, 15 minutes by default, one upload per invocation with partial failures', () => {
    expect(functionNamed(template, H.worker.serviceName).props).toMatchObject({ MemorySize: 2048, Timeout: 900 });
    expect(functionNamed(synth({ workerMemorySize: 4096, workerTimeout: Duration.minutes(10) }).template, H.worker.serviceName).props)
      .toMatchObject({ MemorySize: 4096, Timeout: 600 });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: mref('BuildsBuildQueue'),
      FunctionName: { Ref: functionNamed(template, H.worker.serviceName).logicalId },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: mref('BuildsWebhookQueue'),
      FunctionName: { Ref: functionNamed(template, H.deliverWebhooks.serviceName).logicalId },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  test('publisher: job items of the stream, bounded retries, bisection, on-failure DLQ; PutEvents only under the build source', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('JobsTable'), 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      MaximumRecordAgeInSeconds: 6 * 3600,
      ParallelizationFactor: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify(JOB_STREAM_FILTER) }] },
      DestinationConfig: { OnFailure: { Destination: mref('BuildsPublisherDeadLetterQueue') } },
    });
    expect(statementsOf(template, H.publishEvents.serviceName)).toContainEqual(expect.objectContaining({
      Action: 'events:PutEvents', Resource: ref('BuildsEventBus'), Condition: { StringEquals: { 'events:source': BUILD_EVENT_SOURCE } },
    }));
  });

  test('the created bus has an archive of build events; a bus you pass gets none and receives the events', () => {
    template.hasResourceProperties('AWS::Events::Archive', { EventPattern: { source: [BUILD_EVENT_SOURCE] }, RetentionDays: 30 });
    expect(pipeline.archive).toBeDefined();
    const st = testStack(testApp({ nag: false }));
    const bus = events.EventBus.fromEventBusName(st, 'Bus', 'company-bus');
    const { template: t, pipeline: p } = synth({ eventBus: bus }, st);
    t.resourceCountIs('AWS::Events::Archive', 0);
    t.resourceCountIs('AWS::Events::EventBus', 0);
    expect(p.eventBus).toBe(bus);
    expect(envOf(t, H.publishEvents.serviceName).EVENT_BUS_NAME).toBe('company-bus');
  });

  test('webhooks: a rule on the bus feeds the delivery queue (DLQ, 24 h retries); EventBridge may send for that rule only', () => {
    const rules = template.findResources('AWS::Events::Rule', { Properties: { EventPattern: { source: [BUILD_EVENT_SOURCE] } } });
    const [[ruleId, rule]] = Object.entries(rules) as any;
    expect(rule.Properties.EventPattern).toEqual({ 'source': [BUILD_EVENT_SOURCE], 'detail-type': Object.values(BuildEvents) });
    expect(rule.Properties.EventBusName).toEqual({ Ref: expect.stringMatching(/BuildsEventBus/) });
    expect(rule.Properties.Targets).toEqual([expect.objectContaining({
      Arn: ref('BuildsWebhookQueue'),
      RetryPolicy: { MaximumRetryAttempts: 185 },
      DeadLetterConfig: { Arn: ref('BuildsWebhookQueueDeadLetterQueue') },
    })]);
    const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy')) as any[];
    const eventStatements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement).filter((st: any) => st.Principal?.Service === 'events.amazonaws.com');
    expect(eventStatements.length).toBeGreaterThanOrEqual(2);
    for (const st of eventStatements) expect(st.Condition).toEqual({ ArnEquals: { 'aws:SourceArn': expect.anything() } });
    expect(eventStatements.filter((st: any) => JSON.stringify(st.Condition).includes(ruleId))).toHaveLength(2);
  });

  test('the expiry runs every 5 minutes, with retries and a DLQ', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Targets: [Match.objectLike({
        Arn: mref('BuildsExpireFunction'),
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 600 },
        DeadLetterConfig: { Arn: mref('BuildsInvocationDeadLetterQueue') },
      })],
    });
  });

  test('the webhook signing secret rotates with the construct\'s function (30 days, or webhookSecretRotation), invoked for that secret only', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { SecretStringTemplate: '{}', GenerateStringKey: 'current', PasswordLength: 64, ExcludePunctuation: true },
      KmsKeyId: mref('BuildsKey'),
    });
    const rotationFn = functionNamed(template, H.rotateWebhookSecret.serviceName).logicalId;
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      SecretId: { Ref: Match.stringLikeRegexp('WebhookSigningSecret') },
      RotationLambdaARN: { 'Fn::GetAtt': [rotationFn, 'Arn'] },
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
      RotateImmediatelyOnUpdate: true,
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: { 'Fn::GetAtt': [rotationFn, 'Arn'] },
      Principal: 'secretsmanager.amazonaws.com',
      SourceArn: { Ref: Match.stringLikeRegexp('WebhookSigningSecret') },
      SourceAccount: '111111111111',
    });
    synth({ webhookSecretRotation: Duration.days(7) }).template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      RotationRules: { ScheduleExpression: 'rate(7 days)' },
    });
  });

  test('REST API: /v1.0/builds POST (body model) and GET, {jobId} GET, {jobId}/deliveries GET, API key required, usage plan', () => {
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method')) as any[];
    expect(methods.map((m) => [m.Properties.HttpMethod, m.Properties.ApiKeyRequired, m.Properties.AuthorizationType]).sort())
      .toEqual([['GET', true, 'NONE'], ['GET', true, 'NONE'], ['GET', true, 'NONE'], ['POST', true, 'NONE']]);
    for (const part of ['v1.0', 'builds', '{jobId}', 'deliveries']) template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: part });
    template.hasResourceProperties('AWS::ApiGateway::Model', {
      ContentType: 'application/json',
      Schema: Match.objectLike({ required: ['functionName', 'runtime'], additionalProperties: false }),
    });
    template.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'POST', RequestModels: { 'application/json': Match.anyValue() } });
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', { Throttle: { RateLimit: 20, BurstLimit: 40 }, Quota: { Limit: 100_000, Period: 'MONTH' } });
    template.resourceCountIs('AWS::ApiGateway::ApiKey', 1);
    template.hasResourceProperties('AWS::ApiGateway::Stage', { StageName: 'v1', TracingEnabled: true });
    template.resourceCountIs('AWS::ApiGateway::Account', 0);
  });

  test('authorization: IAM, or any authorizer; a ProductApiAuthorization is accepted too', () => {
    const { template: t } = synth({ authorization: ApiAuthorization.iam() });
    const methods = Object.values(t.findResources('AWS::ApiGateway::Method')) as any[];
    expect(methods.every((m) => m.Properties.AuthorizationType === 'AWS_IAM' && !m.Properties.ApiKeyRequired)).toBe(true);
    t.resourceCountIs('AWS::ApiGateway::ApiKey', 0);
    const { template: p } = synth({ authorization: ProductApiAuthorization.iam(), apiKeys: ['ci', 'console'] });
    p.resourceCountIs('AWS::ApiGateway::ApiKey', 2);
    const st = testStack(testApp({ nag: false }));
    const authorizerFn = new lambda.Function(st, 'AuthFn', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('x') });
    const authorizer = new apigw.TokenAuthorizer(st, 'Jwt', { handler: authorizerFn });
    const { template: c } = synth({ authorization: ApiAuthorization.authorizer(authorizer) }, st);
    const custom = Object.values(c.findResources('AWS::ApiGateway::Method')) as any[];
    expect(custom.every((m) => m.Properties.AuthorizationType === 'CUSTOM' && m.Properties.AuthorizerId)).toBe(true);
  });

  describe('least privilege: each role is allowed exactly what its handler calls', () => {
    const DECRYPT = ['kms:Decrypt'];
    const XRAY = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];
    const SQS_SOURCE = ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'];
    const expected: Record<string, string[]> = {
      [H.createBuild.serviceName]: ['dynamodb:GetItem', 'dynamodb:PutItem', 'kms:Decrypt', 'kms:GenerateDataKey', 's3:PutObject', ...XRAY],
      [H.readBuilds.serviceName]: ['dynamodb:GetItem', 'dynamodb:Query', ...DECRYPT, 'secretsmanager:GetSecretValue', ...XRAY],
      [H.worker.serviceName]: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'kms:Decrypt', 'kms:GenerateDataKey', 's3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject', ...SQS_SOURCE, ...XRAY],
      [H.expireUploads.serviceName]: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem', ...DECRYPT, ...XRAY],
      [H.publishEvents.serviceName]: [
        'dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams', 'events:PutEvents',
        'kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKey', 'sqs:SendMessage', ...XRAY,
      ],
      [H.deliverWebhooks.serviceName]: ['dynamodb:GetItem', 'dynamodb:UpdateItem', ...DECRYPT, 'secretsmanager:GetSecretValue', ...SQS_SOURCE, ...XRAY],
      [H.rotateWebhookSecret.serviceName]: [
        'kms:Decrypt', 'kms:GenerateDataKey', 'secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue',
        'secretsmanager:UpdateSecretVersionStage', ...XRAY,
      ],
    };
    test.each(Object.entries(expected))('%s', (serviceName, actions) => {
      expect(actionsOf(template, serviceName)).toEqual([...actions].sort());
    });

    test('resources: the uploads and artifacts prefixes, the jobs table and its indexes, the secrets', () => {
      const stmt = (serviceName: string, action: string) => statementsOf(template, serviceName).filter((st) => [st.Action].flat().includes(action));
      expect(stmt(H.createBuild.serviceName, 's3:PutObject').map((st) => st.Resource)).toEqual([objects('UploadsBucket', 'uploads/*')]);
      expect(stmt(H.worker.serviceName, 's3:GetObject').map((st) => st.Resource)).toEqual([objects('UploadsBucket', 'uploads/*')]);
      expect(stmt(H.worker.serviceName, 's3:PutObject').map((st) => st.Resource)).toEqual([objects('ArtifactsBucket', 'builds/*')]);
      expect(stmt(H.expireUploads.serviceName, 'dynamodb:Query').map((st) => st.Resource)).toEqual([objects('JobsTable', 'index/AwaitingUploadIndex')]);
      expect(stmt(H.readBuilds.serviceName, 'dynamodb:Query').map((st) => st.Resource)).toEqual([ref('JobsTable'), objects('JobsTable', 'index/FunctionBuildsIndex')]);
      expect(stmt(H.readBuilds.serviceName, 'secretsmanager:GetSecretValue').map((st) => st.Resource)).toEqual([{ Ref: expect.stringMatching(/PageTokenSecret/) }]);
      expect(stmt(H.deliverWebhooks.serviceName, 'secretsmanager:GetSecretValue').map((st) => st.Resource)).toEqual([{ Ref: expect.stringMatching(/WebhookSigningSecret/) }]);
      expect(stmt(H.rotateWebhookSecret.serviceName, 'secretsmanager:PutSecretValue').map((st) => st.Resource)).toEqual([{ Ref: expect.stringMatching(/WebhookSigningSecret/) }]);
      expect(stmt(H.deliverWebhooks.serviceName, 'sqs:ChangeMessageVisibility').map((st) => st.Resource)).toEqual([ref('BuildsWebhookQueue')]);
    });
  });

  describe('container builds', () => {
    test('off by default: no repository, project, rule or state function; creates and the worker are told so', () => {
      for (const type of ['AWS::ECR::Repository', 'AWS::CodeBuild::Project']) template.resourceCountIs(type, 0);
      expect(Object.keys(template.findResources('AWS::Events::Rule', { Properties: { EventPattern: { source: ['aws.codebuild'] } } }))).toHaveLength(0);
      expect(functionNamed(template, H.containerBuildFinished.serviceName).logicalId).toBeUndefined();
      expect(pipeline.containerRepository).toBeUndefined();
      expect(actionsOf(template, H.worker.serviceName)).not.toContain('codebuild:StartBuild');
    });

    const on = () => synth({ containerBuilds: { timeout: Duration.minutes(45) } });

    test('on: an immutable, scanned, encrypted repository with a lifecycle, and a privileged project building the job\'s ZIP', () => {
      const { template: t, pipeline: p } = on();
      t.hasResourceProperties('AWS::ECR::Repository', {
        ImageScanningConfiguration: { ScanOnPush: true },
        ImageTagMutability: 'IMMUTABLE',
        EncryptionConfiguration: { EncryptionType: 'KMS', KmsKey: mref('BuildsKey') },
        LifecyclePolicy: Match.objectLike({ LifecyclePolicyText: Match.stringLikeRegexp('imageCountMoreThan') }),
      });
      const [project] = Object.values(t.findResources('AWS::CodeBuild::Project')) as any[];
      expect(project.Properties).toMatchObject({
        Environment: { Image: 'aws/codebuild/standard:7.0', PrivilegedMode: true, Type: 'LINUX_CONTAINER' },
        TimeoutInMinutes: 45,
        EncryptionKey: ref('BuildsKey'),
      });
      const spec = project.Properties.Source.BuildSpec as string;
      expect(JSON.parse(spec).env['exported-variables']).toEqual(['IMAGE_DIGEST']);
      for (const fragment of ['docker build', 'docker push', 'get-login-password', '$BUILD_JOB_ID', 'IMAGE_DIGEST=']) {
        expect(spec).toContain(fragment);
      }
      expect(p.containerRepository).toBeDefined();
      expect(JSON.parse(envOf(t, H.worker.serviceName).BUILD_JOB_SETTINGS as string).containerBuildTimeoutSeconds).toBe(45 * 60);
    });

    test('on: the worker may start this project; CodeBuild state changes of this project reach the state function', () => {
      const { template: t } = on();
      const projectName = { Ref: expect.stringMatching(/ContainerBuildsProject/) };
      expect(envOf(t, H.worker.serviceName).CONTAINER_BUILD_PROJECT).toEqual(projectName);
      expect(envOf(t, H.createBuild.serviceName).CONTAINER_BUILD_PROJECT).toEqual(projectName);
      const stateEnv = envOf(t, H.containerBuildFinished.serviceName);
      expect(Object.keys(stateEnv).filter((k) => !RUNTIME.has(k)).sort()).toEqual([...H.containerBuildFinished.environment].sort());
      expect(statementsOf(t, H.worker.serviceName)).toContainEqual(expect.objectContaining({ Action: 'codebuild:StartBuild', Resource: ref('ContainerBuildsProject') }));
      expect(actionsOf(t, H.containerBuildFinished.serviceName)).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem', 'kms:Decrypt', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
      t.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          'source': ['aws.codebuild'],
          'detail-type': ['CodeBuild Build State Change'],
          'detail': { 'project-name': [{ Ref: Match.stringLikeRegexp('ContainerBuildsProject') }], 'build-status': ['SUCCEEDED', 'FAILED', 'FAULT', 'STOPPED', 'TIMED_OUT'] },
        },
        Targets: [Match.objectLike({ Arn: mref('ContainerStateFunction'), DeadLetterConfig: { Arn: mref('BuildsInvocationDeadLetterQueue') } })],
      });
      expect(t.toJSON().Resources[Object.keys(t.findResources('AWS::Events::Rule', { Properties: { EventPattern: { source: ['aws.codebuild'] } } }))[0]].Properties.EventBusName).toBeUndefined();
    });

    test('on: the project role reads build archives and pushes to this repository only', () => {
      const { template: t } = on();
      const [project] = Object.values(t.findResources('AWS::CodeBuild::Project')) as any[];
      const roleId = project.Properties.ServiceRole['Fn::GetAtt'][0];
      const statements = (Object.values(t.findResources('AWS::IAM::Policy')) as any[])
        .filter((p) => p.Properties.Roles.some((r: any) => r.Ref === roleId)).flatMap((p) => p.Properties.PolicyDocument.Statement);
      expect(statements).toContainEqual(expect.objectContaining({ Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: objects('ArtifactsBucket', 'builds/*') }));
      const actions = [...new Set(statements.flatMap((st: any) => [st.Action].flat()))];
      expect(actions).toEqual(expect.arrayContaining(['ecr:PutImage', 'ecr:GetAuthorizationToken', 'ecr:CompleteLayerUpload']));
      expect(actions.filter((a) => /^(s3|ecr):\*$|^\*$|ecr:DeleteRepository|ecr:BatchDeleteImage/.test(a as string))).toEqual([]);
      const push = statements.find((st: any) => [st.Action].flat().includes('ecr:PutImage'));
      expect(push.Resource).toEqual(ref('ContainerBuildsRepository'));
    });

    test('on: cdk-nag packs clean, every acknowledgement matches a finding', () => {
      const stack2 = testStack(testApp({ nag: false }));
      new BuildPipeline(stack2, 'Builds', { containerBuilds: true });
      expect(nagFindings(stack2)).toEqual([]);
      expect(unmatchedAcknowledgements(stack2).filter((a) => NAG_RULE.test(a.rule)).map((a) => `${a.path} ${a.rule}`)).toEqual([]);
    });
  });

  test('alarms: every one notifies the topic; worker errors, failure rate, queue age, every DLQ, webhook delivery failures', () => {
    const alarms = Object.entries(template.findResources('AWS::CloudWatch::Alarm')) as any[];
    expect(alarms.length).toBe(pipeline.alarms.length);
    const topic = { Ref: expect.stringMatching(/BuildsAlarmTopic/) };
    for (const [, a] of alarms) {
      expect(a.Properties.AlarmActions).toEqual([topic]);
      expect(a.Properties.OKActions).toEqual([topic]);
    }
    const ids = alarms.map(([id]: [string]) => id).join(' ');
    for (const name of [
      'WorkerFunctionErrorRateAlarm', 'BuildFailureRateAlarm', 'BuildQueueQueueAgeAlarm', 'BuildQueueDeadLetterQueueDepthAlarm',
      'WebhookQueueDeadLetterQueueDepthAlarm', 'PublisherDeadLetterQueueDepthAlarm', 'InvocationDeadLetterQueueDepthAlarm', 'Api5xxRateAlarm',
      'PublisherIteratorAgeAlarm',
    ]) expect(ids).toContain(name);
    const [, failureRate] = alarms.find(([id]: [string]) => id.includes('BuildFailureRateAlarm'));
    expect(failureRate.Properties.Threshold).toBe(50);
    expect(JSON.stringify(failureRate.Properties.Metrics)).toContain('100 * failed / (failed + completed)');
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      FilterPattern: '{ ($.message = "Build event published") && ($.eventType = "BuildFailed") }',
      LogGroupName: { Ref: Match.stringLikeRegexp('PublisherFunctionLogGroup') },
      MetricTransformations: [Match.objectLike({ MetricValue: '1', DefaultValue: 0, MetricNamespace: 'CdkEventServices/BuildPipeline' })],
    });
    template.hasResourceProperties('AWS::Logs::MetricFilter', { FilterPattern: '{ ($.message = "Build event published") && ($.eventType = "BuildCompleted") }' });
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const { template: t } = synth({ alarmThresholds: { buildFailureRatePercent: 20 } });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmDescription: Match.stringLikeRegexp('20% of finished builds'), Threshold: 20 });
  });

  test('the uniform surface: grants, metricErrors, EVENTS and eventPattern', () => {
    expect(BuildPipeline.EVENTS).toBe(BuildEvents);
    expect(library.BuildEvents).toBe(BuildEvents);
    expect(pipeline.eventPattern(BuildEvents.FAILED)).toEqual({ source: [BUILD_EVENT_SOURCE], detailType: ['BuildFailed'] });
    expect(pipeline.eventPattern().detailType).toEqual(Object.values(BuildEvents));
    expect(stack.resolve(pipeline.metricErrors().toMetricConfig().mathExpression!.expression)).toMatch(/^e0 \+ e1 \+ .*e6$/);
    const st = testStack(testApp({ nag: false }));
    const p = new BuildPipeline(st, 'Builds');
    const reader = new iam.Role(st, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
    p.grantRead(reader);
    p.grantReadArtifacts(reader);
    p.grantReadWebhookSecret(reader);
    const policy = Template.fromStack(st).findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('Reader') }] } });
    const statements = (Object.values(policy)[0] as any).Properties.PolicyDocument.Statement;
    expect(statements.map((s2: any) => s2.Action)).toEqual([
      ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'], 'kms:Decrypt', 's3:GetObject', 'secretsmanager:GetSecretValue',
    ]);
    expect(statements[2].Resource).toEqual(objects('ArtifactsBucket', 'builds/*'));
  });

  test('cdk-nag AwsSolutions, NIST 800-53 R5, PCI DSS 3.2.1: nothing unacknowledged, every acknowledgement matches and says why', () => {
    const st = testStack(testApp({ nag: false }));
    new BuildPipeline(st, 'Builds');
    expect(nagFindings(st)).toEqual([]);
    expect(unmatchedAcknowledgements(st).filter((a) => NAG_RULE.test(a.rule)).map((a) => `${a.path} ${a.rule}`)).toEqual([]);
    expect(acknowledgementsUnder(st).filter((a) => NAG_RULE.test(a.rule) && a.reason.trim().length < 40)).toEqual([]);
  });

  test('an environment-agnostic stack synthesizes, and its acknowledgements still match (pseudo parameters)', () => {
    const app = testApp({ nag: false });
    const agnostic = new Stack(app, 'Agnostic');
    new BuildPipeline(agnostic, 'Builds', { containerBuilds: true });
    expect(() => Template.fromStack(agnostic)).not.toThrow();
    expect(nagFindings(agnostic)).toEqual([]);
    expect(unmatchedAcknowledgements(agnostic).filter((a) => NAG_RULE.test(a.rule)).map((a) => `${a.path} ${a.rule}`)).toEqual([]);
  });

  test('invalid props fail synth naming the prop', () => {
    const cases: Array<[Props, RegExp]> = [
      [{ workerTimeout: Duration.minutes(16) }, /workerTimeout/],
      [{ workerTimeout: Duration.seconds(30) }, /workerTimeout/],
      [{ workerMemorySize: 64 }, /workerMemorySize/],
      [{ uploadWindow: Duration.seconds(10) }, /uploadWindow/],
      [{ jobRetention: Duration.hours(1) }, /jobRetention/],
      [{ artifactRetention: Duration.days(0) }, /artifactRetention/],
      [{ idempotencyKeyWindow: Duration.days(400) }, /idempotencyKeyWindow/],
      [{ maxUploadSize: Size.gibibytes(6) }, /maxUploadSize/],
      [{ maxEntries: 0 }, /maxEntries/],
      [{ maxCompressionRatio: 0.5 }, /maxCompressionRatio/],
      [{ maxUploadSize: Size.mebibytes(100), maxUncompressedSize: Size.mebibytes(10) }, /maxUncompressedSize/],
      [{ webhook: { maxAttempts: 0 } }, /webhook\.maxAttempts/],
      [{ webhook: { maxDelay: Duration.hours(13) } }, /webhook\.maxDelay/],
      [{ webhook: { baseDelay: Duration.minutes(10), maxDelay: Duration.minutes(1) } }, /webhook\.maxDelay/],
      [{ webhook: { timeout: Duration.minutes(6) } }, /webhook\.timeout/],
      [{ webhookSecretRotation: Duration.hours(1) }, /webhookSecretRotation/],
      [{ webhookSecretRotation: Duration.days(1) }, /webhook\.rotationOverlap/],
      [{ containerBuilds: { timeout: Duration.minutes(1) } }, /containerBuilds\.timeout/],
      [{ apiKeys: [] }, /apiKeys/],
      [{ apiKeys: ['a b'] }, /apiKeys/],
      [{ alarmThresholds: { buildFailureRatePercent: 120 } }, /alarmThresholds\.buildFailureRatePercent/],
    ];
    for (const [props, message] of cases) {
      expect(() => synth(props)).toThrow(message);
      try {
        synth(props);
      } catch (e) {
        expect((e as Error).constructor.name).toBe('ValidationError');
      }
    }
  });

  test('snapshot', () => {
    expect(snapshotOf(template)).toMatchSnapshot();
  });
});
