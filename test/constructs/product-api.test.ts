import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { actionsOf, functionNamed, snapshotOf, testApp, testStack, statementsOf } from './test-app';
import { productInputSchema } from '../../functions/product-api/product-schema';
import { ProductApi, ProductApiAuthorization } from '../../lib';
import { PRODUCT_TEXT_RULES, ProductApiEnv, ProductApiHandlers } from '../../lib/product-api/contract';
import { acknowledgementsUnder, nagFindings, unmatchedAcknowledgements } from '../nag/nag-findings';

const validates = (schema: any, input: unknown) => !(schema['~standard'].validate(input).issues?.length);

function synth(props?: ConstructorParameters<typeof ProductApi>[2]): { stack: Stack; products: ProductApi; template: Template } {
  const stack = testStack();
  const products = new ProductApi(stack, 'Products', props);
  return { stack, products, template: Template.fromStack(stack) };
}

describe('ProductApi', () => {
  const { template, products } = synth();

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
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'secretsmanager:GetSecretValue', Resource: { Ref: secretId } })]) },
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
    expect(queues).toHaveLength(6); // 2 work queues, their 2 DLQs, 2 subscription DLQs
    expect(queues.every((q) => q.Properties.FifoQueue === true && q.Properties.KmsMasterKeyId)).toBe(true);
    // Every queue keeps messages 14 days (SQS's maximum), work queues too.
    expect(queues.every((q) => q.Properties.MessageRetentionPeriod === 14 * 24 * 3600)).toBe(true);
    const withDlq = queues.filter((q) => q.Properties.RedrivePolicy);
    expect(withDlq).toHaveLength(2);
    for (const q of withDlq) {
      expect(q.Properties.RedrivePolicy.maxReceiveCount).toBe(5);
      // 6x the consumers' 30 s timeout
      expect(q.Properties.VisibilityTimeout).toBe(180);
    }
  });

  test('each SNS→SQS subscription redrives to a FIFO DLQ of its own, with a depth alarm to the alarm topic', () => {
    const resources = template.toJSON().Resources;
    const subs = Object.values(template.findResources('AWS::SNS::Subscription')) as any[];
    const dlqIds = subs.map((sub) => sub.Properties.RedrivePolicy?.deadLetterTargetArn?.['Fn::GetAtt']?.[0]);
    expect(dlqIds.every(Boolean)).toBe(true);
    expect(new Set(dlqIds).size).toBe(2);
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as any[];
    for (const id of dlqIds) {
      expect(resources[id].Properties).toMatchObject({ FifoQueue: true, MessageRetentionPeriod: 1209600, KmsMasterKeyId: expect.anything() });
      const depth = alarms.find((a) => a.Properties.Dimensions?.[0]?.Value?.['Fn::GetAtt']?.[0] === id);
      expect(depth.Properties).toMatchObject({ MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 0, AlarmActions: [{ Ref: expect.stringMatching(/AlarmTopic/) }] });
      // SNS may send into it only for this construct's topic.
      const policy = Object.values(template.findResources('AWS::SQS::QueuePolicy')).find((qp: any) => qp.Properties.Queues.some((q: any) => q.Ref === id)) as any;
      const allow = policy.Properties.PolicyDocument.Statement.find((st: any) => st.Effect === 'Allow');
      expect(allow).toMatchObject({ Principal: { Service: 'sns.amazonaws.com' }, Action: 'sqs:SendMessage', Condition: { ArnEquals: { 'aws:SourceArn': { Ref: expect.stringMatching(/ChangesTopic/) } } } });
    }
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

  test('alarms from the plan, all to the alarm topic, all exposed', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as any[];
    // 4 functions x (error rate, p95) + 2 queues x (DLQ depth, age) + 2 subscription DLQs + API 5xx
    expect(alarms).toHaveLength(15);
    expect(products.alarms).toHaveLength(15);
    expect(alarms.every((a) => a.Properties.AlarmActions?.length === 1)).toBe(true);
    const thresholds = alarms.map((a) => a.Properties.Threshold).sort((a, b) => a - b);
    expect(thresholds.filter((t) => t === 5)).toHaveLength(4); // error rate %
    expect(thresholds.filter((t) => t === 300)).toHaveLength(6); // p95 ms (4) and message age s (2)
    expect(thresholds.filter((t) => t === 0)).toHaveLength(4); // any message in a DLQ
    expect(thresholds.filter((t) => t === 1)).toHaveLength(1); // API 5xx %
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  test('alarm thresholds are props; out-of-range values fail at synth naming the prop', () => {
    const { template: t } = synth({
      alarmThresholds: {
        functionErrorRatePercent: 2, functionP95Duration: Duration.millis(800), queueMaxMessageAge: Duration.minutes(15), api5xxRatePercent: 0.5,
      },
    });
    const thresholds = (Object.values(t.findResources('AWS::CloudWatch::Alarm')) as any[]).map((a) => a.Properties.Threshold);
    expect(thresholds.filter((x) => x === 2)).toHaveLength(4);
    expect(thresholds.filter((x) => x === 800)).toHaveLength(4);
    expect(thresholds.filter((x) => x === 900)).toHaveLength(2);
    expect(thresholds.filter((x) => x === 0.5)).toHaveLength(1);
    expect(() => synth({ alarmThresholds: { functionErrorRatePercent: 120 } })).toThrow(/alarmThresholds.functionErrorRatePercent: must be a number from 0 to 100/);
    expect(() => synth({ alarmThresholds: { queueMaxMessageAge: Duration.seconds(10) } })).toThrow(/alarmThresholds.queueMaxMessageAge: must be between/);
    expect(() => synth({ alarmThresholds: { functionP95Duration: Duration.minutes(20) } })).toThrow(/alarmThresholds.functionP95Duration: must be between 1 ms and 15 minutes/);
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

  describe('cdk-nag AwsSolutions, NIST 800-53 R5 and PCI DSS 3.2.1', () => {
    const ours = (rule: string) => /^(AwsSolutions|NIST\.800\.53\.R5|PCI\.DSS\.321)-/.test(rule);
    const variants: Array<[string, ConstructorParameters<typeof ProductApi>[2]]> = [
      ['defaults (API keys)', undefined],
      ['IAM authorization, two client keys', { authorization: ProductApiAuthorization.iam(), apiKeys: ['mobile', 'partner'] }],
      ['Cognito authorization', { authorization: ProductApiAuthorization.cognito([cognito.UserPool.fromUserPoolId(testStack(testApp({ nag: false })), 'Pool', 'eu-west-1_abc')]) }],
      ['removalPolicy DESTROY', { removalPolicy: RemovalPolicy.DESTROY }],
    ];
    test.each(variants)('%s: no unacknowledged finding, and every acknowledgement matches one', (_label, props) => {
      const stack = testStack(testApp({ nag: false }));
      const p = new ProductApi(stack, 'Products', props);
      expect(nagFindings(p)).toEqual([]);
      expect(unmatchedAcknowledgements(p).filter((a) => ours(a.rule))).toEqual([]);
    });

    test('APIG3 and APIG4 reasons say what is true', () => {
      const reasons = acknowledgementsUnder(products);
      const reason = (rule: string) => reasons.find((a) => a.rule === rule)?.reason ?? '';
      expect(reason('AwsSolutions-APIG3')).not.toMatch(/account-level/);
      expect(reason('AwsSolutions-APIG4')).toMatch(/does not authenticate/);
      expect(reason('AwsSolutions-APIG4')).not.toMatch(/authenticates callers with API keys/);
    });
  });

  describe('least privilege: each function role holds exactly the actions its code calls', () => {
    const xray = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];
    const consume = ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'];
    const expected: Record<string, string[]> = {
      [ProductApiHandlers.read.serviceName]: ['dynamodb:GetItem', 'dynamodb:Query', 'kms:Decrypt', 'secretsmanager:GetSecretValue', ...xray],
      [ProductApiHandlers.accept.serviceName]: ['dynamodb:GetItem', 'kms:Decrypt', 'kms:GenerateDataKey', 'sns:Publish', ...xray],
      [ProductApiHandlers.writer.serviceName]: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'kms:Decrypt', ...consume, ...xray],
      [ProductApiHandlers.audit.serviceName]: ['kms:Decrypt', 'kms:GenerateDataKey', 's3:PutObject', ...consume, ...xray],
    };

    test.each(Object.entries(expected))('%s', (serviceName, actions) => {
      expect(actionsOf(template, serviceName)).toEqual([...actions].sort());
    });

    test('no wildcard action, no Scan, no kms:Encrypt or ReEncrypt on any function role', () => {
      for (const serviceName of Object.keys(expected)) {
        const actions = actionsOf(template, serviceName);
        expect(actions.filter((a) => a.includes('*') || /Scan|kms:Encrypt|ReEncrypt|BatchWrite/.test(a))).toEqual([]);
      }
    });

    test('the readers query the two indexes by name, not index/*', () => {
      const query = statementsOf(template, ProductApiHandlers.read.serviceName).find((st: any) => st.Action === 'dynamodb:Query');
      expect(JSON.stringify(query.Resource)).toContain('/index/ProductsByPriceIndex');
      expect(JSON.stringify(query.Resource)).toContain('/index/ProductsByNameIndex');
      expect(JSON.stringify(query.Resource)).not.toContain('index/*');
    });

    test('the audit logger may put objects under changes/ only', () => {
      const put = statementsOf(template, ProductApiHandlers.audit.serviceName).find((st: any) => st.Action === 's3:PutObject');
      expect(JSON.stringify(put.Resource)).toMatch(/\/changes\/\*"/);
    });
  });

  describe('keys', () => {
    const keyOf = (t: Template, type: string, match: (r: any) => boolean, prop: (r: any) => any) => {
      const found = (Object.values(t.findResources(type)) as any[]).filter(match);
      expect(found.length).toBeGreaterThan(0);
      const ids = new Set(found.map((r) => JSON.stringify(prop(r))));
      expect(ids.size).toBe(1);
      return [...ids][0];
    };
    const tableKey = (t: Template) => keyOf(t, 'AWS::DynamoDB::Table', () => true, (r) => r.Properties.SSESpecification.KMSMasterKeyId);
    const queueKey = (t: Template) => keyOf(t, 'AWS::SQS::Queue', () => true, (r) => r.Properties.KmsMasterKeyId);
    const secretKey = (t: Template) => keyOf(t, 'AWS::SecretsManager::Secret', () => true, (r) => r.Properties.KmsKeyId);
    const bucketKey = (t: Template) => keyOf(t, 'AWS::S3::Bucket', (r) => r.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm === 'aws:kms',
      (r) => r.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.KMSMasterKeyID);
    const topicKey = (t: Template) => keyOf(t, 'AWS::SNS::Topic', (r) => r.Properties.FifoTopic, (r) => r.Properties.KmsMasterKeyId);

    test('one key for tables, queues and secrets; the audit bucket and the changes topic have their own', () => {
      const data = tableKey(template);
      expect(queueKey(template)).toBe(data);
      expect(secretKey(template)).toBe(data);
      expect(data).toContain('ProductsKey');
      expect(bucketKey(template)).toContain('ProductsAuditKey');
      expect(topicKey(template)).toContain('ProductsChangesTopicKey');
    });

    test('a passed encryptionKey covers everything but the changes topic, as README says', () => {
      const stack = testStack(testApp({ nag: false }));
      const mine = new kms.Key(stack, 'Mine');
      new ProductApi(stack, 'Products', { encryptionKey: mine });
      const t = Template.fromStack(stack);
      for (const k of [tableKey(t), queueKey(t), secretKey(t), bucketKey(t)]) expect(k).toContain('Mine');
      expect(topicKey(t)).toContain('ProductsChangesTopicKey');
      t.resourceCountIs('AWS::KMS::Key', 3); // mine, the topic's, the alarm topic's
    });
  });

  describe('authorization and API keys', () => {
    const methods = (t: Template) => (Object.values(t.findResources('AWS::ApiGateway::Method')) as any[]).filter((m) => m.Properties.HttpMethod !== 'OPTIONS');
    const acceptEnv = (t: Template) => functionNamed(t, ProductApiHandlers.accept.serviceName).props.Environment.Variables;

    test('default: API keys, one key named default, kept under the ids of earlier versions', () => {
      expect(methods(template).every((m) => m.Properties.AuthorizationType === 'NONE' && m.Properties.ApiKeyRequired)).toBe(true);
      expect(acceptEnv(template)[ProductApiEnv.CALLER_IDENTITY]).toBe('apiKey');
      expect(Object.keys(products.apiKeys)).toEqual(['default']);
      expect(products.apiKeySecret).toBe(products.apiKeySecrets.default);
      const ids = Object.keys(template.toJSON().Resources);
      expect(ids.filter((id) => /^ProductsRestApiKeySecret[0-9A-F]{8}$/.test(id))).toHaveLength(1);
      expect(ids.filter((id) => /^ProductsRestApiApiKey[0-9A-F]{8}$/.test(id))).toHaveLength(1);
    });

    test('one key and one secret per named client, all on the usage plan', () => {
      const { template: t, products: p } = synth({ apiKeys: ['mobile', 'partner'] });
      t.resourceCountIs('AWS::ApiGateway::ApiKey', 2);
      t.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 2);
      expect(Object.keys(p.apiKeySecrets)).toEqual(['mobile', 'partner']);
      const descriptions = (Object.values(t.findResources('AWS::SecretsManager::Secret')) as any[]).map((r) => r.Properties.Description);
      expect(descriptions.filter((d) => /client 'mobile'/.test(d))).toHaveLength(1);
      expect(descriptions.filter((d) => /client 'partner'/.test(d))).toHaveLength(1);
      const values = (Object.values(t.findResources('AWS::ApiGateway::ApiKey')) as any[]).map((k) => JSON.stringify(k.Properties.Value));
      expect(new Set(values).size).toBe(2);
    });

    test('IAM (SigV4): every method AWS_IAM, no key needed unless clients are named; grantInvoke', () => {
      const stack = testStack(testApp({ nag: false }));
      const p = new ProductApi(stack, 'Products', { authorization: ProductApiAuthorization.iam() });
      const role = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
      p.grantInvoke(role, { readOnly: true });
      const t = Template.fromStack(stack);
      expect(methods(t).every((m) => m.Properties.AuthorizationType === 'AWS_IAM' && !m.Properties.ApiKeyRequired)).toBe(true);
      t.resourceCountIs('AWS::ApiGateway::ApiKey', 0);
      expect(acceptEnv(t)[ProductApiEnv.CALLER_IDENTITY]).toBe('iam');
      expect(p.apiKeySecret).toBeUndefined();
      const policy = t.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('Caller') }] } });
      const statement = (Object.values(policy)[0] as any).Properties.PolicyDocument.Statement[0];
      expect(statement.Action).toBe('execute-api:Invoke');
      expect(JSON.stringify(statement.Resource)).toContain('/GET/v1.0/products');
      expect(JSON.stringify(statement.Resource)).not.toContain('/POST/');

      const withKeys = synth({ authorization: ProductApiAuthorization.iam(), apiKeys: ['partner'] }).template;
      expect(methods(withKeys).every((m) => m.Properties.AuthorizationType === 'AWS_IAM' && m.Properties.ApiKeyRequired)).toBe(true);
    });

    test('Cognito: a user pool authorizer on every method, scopes passed; the sub is the caller', () => {
      const stack = testStack();
      const pool = cognito.UserPool.fromUserPoolId(stack, 'Pool', 'eu-west-1_abc');
      new ProductApi(stack, 'Products', { authorization: ProductApiAuthorization.cognito([pool], { scopes: ['products/write'] }) });
      const t = Template.fromStack(stack);
      t.hasResourceProperties('AWS::ApiGateway::Authorizer', { Type: 'COGNITO_USER_POOLS' });
      expect(methods(t).every((m) => m.Properties.AuthorizationType === 'COGNITO_USER_POOLS' && m.Properties.AuthorizationScopes?.[0] === 'products/write')).toBe(true);
      expect(acceptEnv(t)[ProductApiEnv.CALLER_IDENTITY]).toBe('cognito');
    });

    test('a user-supplied authorizer: CUSTOM on every method; its principalId is the caller', () => {
      const stack = testStack(testApp({ nag: false }));
      const authFn = new lambda.Function(stack, 'AuthFn', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler=async()=>({})') });
      const authorizer = new apigw.TokenAuthorizer(stack, 'Mine', { handler: authFn });
      new ProductApi(stack, 'Products', { authorization: ProductApiAuthorization.authorizer(authorizer) });
      const t = Template.fromStack(stack);
      expect(methods(t).every((m) => m.Properties.AuthorizationType === 'CUSTOM' && m.Properties.AuthorizerId)).toBe(true);
      expect(acceptEnv(t)[ProductApiEnv.CALLER_IDENTITY]).toBe('authorizer');
    });

    test('bad client names and key-less API-key authorization fail at synth naming apiKeys', () => {
      expect(() => synth({ apiKeys: [] })).toThrow(/apiKeys: API-key authorization needs at least one client key/);
      expect(() => synth({ apiKeys: ['mobile', 'mobile'] })).toThrow(/apiKeys: client name 'mobile' appears twice/);
      expect(() => synth({ apiKeys: ['has space'] })).toThrow(/apiKeys: client name 'has space' must be/);
    });
  });

  test('EVENTS and eventPattern: a filter policy on the eventType attribute of the changes topic', () => {
    expect(ProductApi.EVENTS).toEqual({ CREATED: 'ProductCreated', UPDATED: 'ProductUpdated', DELETED: 'ProductDeleted' });
    const stack = testStack(testApp({ nag: false }));
    const p = new ProductApi(stack, 'Products');
    const q = new sqs.Queue(stack, 'Deletions', { fifo: true });
    p.changesTopic.addSubscription(new subscriptions.SqsSubscription(q, { filterPolicy: p.eventPattern(ProductApi.EVENTS.DELETED) }));
    Template.fromStack(stack).hasResourceProperties('AWS::SNS::Subscription', { FilterPolicy: { eventType: ['ProductDeleted'] } });
    expect(JSON.stringify(p.eventPattern())).toContain('ProductUpdated');
  });

  test('a retained products table is protected from deletion; a destroyed one is not', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', { KeySchema: Match.arrayWith([{ AttributeName: 'PK', KeyType: 'HASH' }]), DeletionProtectionEnabled: true });
    const { template: t } = synth({ removalPolicy: RemovalPolicy.DESTROY });
    t.hasResourceProperties('AWS::DynamoDB::Table', { KeySchema: Match.arrayWith([{ AttributeName: 'PK', KeyType: 'HASH' }]), DeletionProtectionEnabled: false });
  });

  test('snapshot', () => {
    expect(snapshotOf(template)).toMatchSnapshot();
  });
});
