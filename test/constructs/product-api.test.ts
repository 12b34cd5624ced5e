import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { snapshotOf, testApp, testStack } from './test-app';
import { productInputSchema } from '../../functions/product-api/product-schema';
import { ProductApi } from '../../lib';
import { PRODUCT_TEXT_RULES, ProductApiEnv } from '../../lib/product-api/contract';

const validates = (schema: any, input: unknown) => !(schema['~standard'].validate(input).issues?.length);

function synth(props?: ConstructorParameters<typeof ProductApi>[2]): { stack: Stack; products: ProductApi; template: Template } {
  const stack = testStack();
  const products = new ProductApi(stack, 'Products', props);
  return { stack, products, template: Template.fromStack(stack) };
}

describe('ProductApi', () => {
  const { template } = synth();

  test('products table: on-demand, PITR, KMS, both GSIs, retained by default', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'PK', KeyType: 'HASH' }, { AttributeName: 'SK', KeyType: 'RANGE' }],
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: Match.objectLike({ SSEEnabled: true, SSEType: 'KMS' }),
        GlobalSecondaryIndexes: [
          Match.objectLike({ IndexName: 'ProductsByPriceIndex', KeySchema: [{ AttributeName: 'GSI1_PK', KeyType: 'HASH' }, { AttributeName: 'GSI1_SK', KeyType: 'RANGE' }] }),
          Match.objectLike({ IndexName: 'ProductsByNameIndex', KeySchema: [{ AttributeName: 'GSI2_PK', KeyType: 'HASH' }] }),
        ],
      }),
    });
  });

  test('removalPolicy DESTROY reaches the data resources', () => {
    const { template: t } = synth({ removalPolicy: RemovalPolicy.DESTROY });
    const tables = t.findResources('AWS::DynamoDB::Table');
    expect(Object.values(tables).every((r: any) => r.DeletionPolicy === 'Delete')).toBe(true);
    const buckets = t.findResources('AWS::S3::Bucket');
    expect(Object.values(buckets).every((r: any) => r.DeletionPolicy === 'Delete')).toBe(true);
  });

  test('every API method requires an API key, under /v1.0/products', () => {
    const methods = template.findResources('AWS::ApiGateway::Method', { Properties: { HttpMethod: Match.not('OPTIONS') } });
    expect(Object.keys(methods)).toHaveLength(5);
    for (const m of Object.values(methods) as any[]) expect(m.Properties.ApiKeyRequired).toBe(true);
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'v1.0' });
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'products' });
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: '{productId}' });
  });

  test('POST and PUT bodies are validated at the gateway against the product model', () => {
    template.hasResourceProperties('AWS::ApiGateway::Model', {
      Schema: Match.objectLike({ additionalProperties: false, required: ['name', 'price', 'currency'] }),
    });
    for (const verb of ['POST', 'PUT']) {
      template.hasResourceProperties('AWS::ApiGateway::Method', {
        HttpMethod: verb,
        RequestValidatorId: Match.anyValue(),
        RequestModels: { 'application/json': Match.anyValue() },
      });
    }
  });

  test('usage plan with default throttle and quota; the key value comes from Secrets Manager', () => {
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: 100, BurstLimit: 200 },
      Quota: { Limit: 1_000_000, Period: 'MONTH' },
    });
    const keys = template.findResources('AWS::ApiGateway::ApiKey');
    const value = JSON.stringify((Object.values(keys)[0] as any).Properties.Value);
    expect(value).toContain('{{resolve:secretsmanager:');
  });

  test('page tokens: the read function gets the HMAC secret by ARN, and may read it', () => {
    const secrets = template.findResources('AWS::SecretsManager::Secret', { Properties: { Description: Match.stringLikeRegexp('page tokens') } });
    const [secretId] = Object.keys(secrets);
    expect(secretId).toBeDefined();
    expect((secrets[secretId] as any).Properties.KmsKeyId).toBeDefined();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [ProductApiEnv.PAGE_TOKEN_SECRET_ARN]: { Ref: secretId } }) },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['secretsmanager:GetSecretValue']), Resource: { Ref: secretId } })]) },
    });
  });

  describe('the gateway model and the handler give one verdict on names and descriptions', () => {
    const model = Object.values(template.findResources('AWS::ApiGateway::Model'))[0] as any;
    const schema = model.Properties.Schema;
    const gateway = (flags: string) => (body: Record<string, unknown>) =>
      (['name', 'description'] as const).every((field) =>
        typeof body[field] !== 'string' || new RegExp(schema.properties[field].pattern, flags).test(body[field] as string));
    const handler = (body: Record<string, unknown>) => validates(productInputSchema, body);
    const base = { name: 'Teapot', price: 10, currency: 'GBP' };
    const corpus: Array<[string, Record<string, unknown>, boolean]> = [
      ['plain', base, true],
      ['accents', { ...base, name: 'Crème brûlée' }, true],
      ['CJK', { ...base, name: '茶壶', description: '景德镇瓷器' }, true],
      ['emoji', { ...base, name: 'Tea \u{1F375}', description: '\u{1F600}\u{1F468}\u200D\u{1F469}' }, true],
      ['200 emoji', { ...base, name: '\u{1F375}'.repeat(200) }, true],
      ['201 emoji', { ...base, name: '\u{1F375}'.repeat(201) }, false],
      ['200 letters', { ...base, name: 'n'.repeat(200) }, true],
      ['201 letters', { ...base, name: 'n'.repeat(201) }, false],
      ['padded name', { ...base, name: '  Teapot\u00a0' }, true],
      ['blank name', { ...base, name: '   ' }, false],
      ['blank Unicode spaces', { ...base, name: '\u3000\u00a0\u2003' }, false],
      ['empty name', { ...base, name: '' }, false],
      ['NUL', { ...base, name: 'a\u0000' }, false],
      ['ESC', { ...base, name: '\u001b[31m' }, false],
      ['DEL', { ...base, name: 'a\u007f' }, false],
      ['C1', { ...base, name: 'a\u009b' }, false],
      ['tab in name', { ...base, name: 'a\tb' }, false],
      ['lone high surrogate', { ...base, name: 'a\ud800' }, false],
      ['lone low surrogate', { ...base, name: '\udfffa' }, false],
      ['reversed pair', { ...base, name: 'a\ude00\ud83d' }, false],
      ['multi-line description', { ...base, description: 'one\ntwo\r\n\tthree' }, true],
      ['description of 2000', { ...base, description: 'd'.repeat(2000) }, true],
      ['description of 2001', { ...base, description: 'd'.repeat(2001) }, false],
      ['NUL in description', { ...base, description: 'a\u0000' }, false],
      ['lone surrogate in description', { ...base, description: '\ud83d' }, false],
      ['vertical tab in description', { ...base, description: 'a\u000bb' }, false],
    ];
    test.each(corpus)('%s', (_label, body, valid) => {
      expect(handler(body)).toBe(valid);
      // UTF-16 code units (ECMAScript without `u`) and code points (`u`, like java.util.regex).
      expect(gateway('')(body)).toBe(valid);
      expect(gateway('u')(body)).toBe(valid);
    });

    test('the model holds the contract patterns themselves', () => {
      expect(schema.properties.name.pattern).toBe(PRODUCT_TEXT_RULES.namePattern);
      expect(schema.properties.description.pattern).toBe(PRODUCT_TEXT_RULES.descriptionPattern);
    });
  });

  test('throttle and quota props reach the usage plan', () => {
    const { template: t } = synth({ throttle: { rateLimit: 5, burstLimit: 10 }, quota: { limit: 100 } });
    t.hasResourceProperties('AWS::ApiGateway::UsagePlan', { Throttle: { RateLimit: 5, BurstLimit: 10 }, Quota: { Limit: 100 } });
  });

  test('stage has JSON access logs and X-Ray tracing', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      TracingEnabled: true,
      AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') }),
    });
  });

  test('every change fans out from a FIFO topic to two FIFO queues, each with a FIFO DLQ', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { FifoTopic: true, KmsMasterKeyId: Match.anyValue() });
    const subs = template.findResources('AWS::SNS::Subscription', { Properties: { Protocol: 'sqs' } });
    expect(Object.keys(subs)).toHaveLength(2);
    for (const s of Object.values(subs) as any[]) expect(s.Properties.RawMessageDelivery).toBe(true);
    const queues = Object.values(template.findResources('AWS::SQS::Queue')) as any[];
    expect(queues).toHaveLength(4);
    expect(queues.every((q) => q.Properties.FifoQueue === true && q.Properties.KmsMasterKeyId)).toBe(true);
    const withDlq = queues.filter((q) => q.Properties.RedrivePolicy);
    expect(withDlq).toHaveLength(2);
    for (const q of withDlq) {
      expect(q.Properties.RedrivePolicy.maxReceiveCount).toBe(5);
      // 6x the consumers' 30 s timeout
      expect(q.Properties.VisibilityTimeout).toBe(180);
    }
    const dlqs = queues.filter((q) => !q.Properties.RedrivePolicy);
    for (const q of dlqs) expect(q.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
  });

  test('the changes topic has its own key, so the queue key policy can name the topic without a cycle', () => {
    const topic = Object.values(template.findResources('AWS::SNS::Topic', { Properties: { FifoTopic: true } }))[0] as any;
    const queue = Object.values(template.findResources('AWS::SQS::Queue'))[0] as any;
    expect(topic.Properties.KmsMasterKeyId).not.toEqual(queue.Properties.KmsMasterKeyId);
    const queueKeyId = queue.Properties.KmsMasterKeyId['Fn::GetAtt'][0];
    const queueKey = template.toJSON().Resources[queueKeyId];
    const snsStatement = queueKey.Properties.KeyPolicy.Statement.find((st: any) => st.Principal?.Service === 'sns.amazonaws.com');
    expect(snsStatement.Condition.ArnEquals['aws:SourceArn']).toEqual({ Ref: expect.stringMatching(/ChangesTopic/) });
  });

  test('queues and topic refuse plain-HTTP access', () => {
    const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy')) as any[];
    const denies = policies.flatMap((p) => p.Properties.PolicyDocument.Statement).filter((s: any) => s.Effect === 'Deny');
    expect(denies.length).toBeGreaterThanOrEqual(4);
    expect(denies.every((s: any) => s.Condition.Bool['aws:SecureTransport'] === 'false')).toBe(true);
  });

  test('consumers report partial batch failures', () => {
    const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')) as any[];
    expect(mappings).toHaveLength(2);
    for (const m of mappings) {
      expect(m.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
      expect(m.Properties.BatchSize).toBe(10);
    }
  });

  test('functions: Node.js 24, arm64, X-Ray, JSON logs, Powertools service name', () => {
    const fns = Object.values(template.findResources('AWS::Lambda::Function')) as any[];
    const handlers = fns.filter((f) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME);
    expect(handlers).toHaveLength(4);
    for (const f of handlers) {
      expect(f.Properties.Runtime).toBe('nodejs24.x');
      expect(f.Properties.Architectures).toEqual(['arm64']);
      expect(f.Properties.TracingConfig).toEqual({ Mode: 'Active' });
      expect(f.Properties.LoggingConfig.LogFormat).toBe('JSON');
      // source maps are opt-in: they cost ~20-25 ms per cold start
      expect(f.Properties.Environment.Variables.NODE_OPTIONS).toBeUndefined();
    }
  });

  test('log retention defaults to 90 days', () => {
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup')) as any[];
    expect(groups.length).toBeGreaterThanOrEqual(5);
    expect(groups.every((g) => g.Properties.RetentionInDays === 90)).toBe(true);
  });

  test('audit bucket: versioned, KMS, TLS only, no public access, Glacier after 365 days', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: { ServerSideEncryptionConfiguration: [Match.objectLike({ ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }) })] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: { Rules: [Match.objectLike({ Transitions: [{ StorageClass: 'GLACIER', TransitionInDays: 365 }] })] },
    });
  });

  test('alarms from the plan, all to the alarm topic', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as any[];
    // 4 functions x (error rate, p95) + 2 queues x (DLQ depth, age) + API 5xx
    expect(alarms).toHaveLength(13);
    expect(alarms.every((a) => a.Properties.AlarmActions?.length === 1)).toBe(true);
    const thresholds = alarms.map((a) => a.Properties.Threshold).sort((a, b) => a - b);
    expect(thresholds.filter((t) => t === 5)).toHaveLength(4); // error rate %
    expect(thresholds.filter((t) => t === 300)).toHaveLength(6); // p95 ms (4) and message age s (2)
    expect(thresholds.filter((t) => t === 0)).toHaveLength(2); // any message in a DLQ
    expect(thresholds.filter((t) => t === 1)).toHaveLength(1); // API 5xx %
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  test('a user-supplied alarm topic is used instead of creating one', () => {
    const stack2 = testStack();
    const topic = sns.Topic.fromTopicArn(stack2, 'Mine', 'arn:aws:sns:eu-west-1:111111111111:mine');
    const p = new ProductApi(stack2, 'Products', { alarmTopic: topic });
    expect(p.alarmTopic).toBe(topic);
    Template.fromStack(stack2).resourceCountIs('AWS::SNS::Topic', 1); // just the changes topic
  });

  test('grantRead gives read-only table access', () => {
    const { stack: s2, products: p2 } = (() => {
      // the user's own role, outside the construct: cdk-nag is the user's business there
      const st = testStack(testApp({ nag: false }));
      return { stack: st, products: new ProductApi(st, 'Products') };
    })();
    const role = new iam.Role(s2, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
    p2.grantRead(role);
    const t = Template.fromStack(s2);
    const policy = Object.values(t.findResources('AWS::IAM::Policy')).find((p: any) => p.Properties.Roles?.[0]?.Ref?.startsWith('Reader')) as any;
    const actions = policy.Properties.PolicyDocument.Statement.flatMap((s: any) => [].concat(s.Action));
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query']));
    expect(actions.some((a: string) => /Put|Update|Delete/.test(a) && a.startsWith('dynamodb:'))).toBe(false);
  });

  test('invalid maxReceiveCount fails at synth with a message', () => {
    expect(() => synth({ maxReceiveCount: 0 })).toThrow(/maxReceiveCount: must be an integer from 1 to 1000/);
  });

  test('consumerTimeout sets the visibility timeout to 6x', () => {
    const { template: t } = synth({ consumerTimeout: Duration.seconds(60) });
    const queues = Object.values(t.findResources('AWS::SQS::Queue')) as any[];
    expect(queues.filter((q) => q.Properties.VisibilityTimeout === 360)).toHaveLength(2);
  });

  test('cdk-nag AwsSolutions: no unacknowledged findings', () => {
    const app = testApp();
    new ProductApi(testStack(app), 'Products');
    expect(() => app.synth()).not.toThrow();
  });

  test('snapshot', () => {
    expect(snapshotOf(template)).toMatchSnapshot();
  });
});
