import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambdaEvents from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  acknowledgeFindings, addApi5xxAlarm, addFunctionAlarms, createIdempotencyTable, createServiceKey, nagArn,
  HandlerContract, ReliableQueue, resolveAlarmTopic, ServiceFunction,
} from '../core';
import { createAuditBucket } from './audit-bucket';
import { ProductApiProps } from './product-api-props';
import { ProductRestApi } from './product-rest-api';
import { createProductsTable } from './product-tables';
import { CHANGE_FANOUT_DEFINITION as FANOUT, ProductApiEnv as Env, ProductApiHandlers } from './contract';


/**
 * A product catalogue service: an API-key REST API at `/v1.0/products` that reads
 * straight from DynamoDB and accepts writes (202) as change events. Every change fans
 * out from a FIFO topic to two FIFO queues, one for the writer and one for the audit
 * logger, so both see every change, in order per product.
 */
export class ProductApi extends Construct {
  /** The REST API. */
  public readonly api: apigw.RestApi;
  /** The products table. */
  public readonly table: dynamodb.Table;
  /** The API key's value. */
  public readonly apiKeySecret: secretsmanager.ISecret;
  /** The usage plan (throttle, quota) the API key belongs to. */
  public readonly usagePlan: apigw.UsagePlan;
  /** Every accepted change is published here (FIFO, grouped by product id). */
  public readonly changesTopic: sns.ITopic;
  /** The writer's queue and its dead-letter queue. */
  public readonly writerQueue: sqs.IQueue;
  public readonly writerDeadLetterQueue: sqs.IQueue;
  /** The audit logger's queue and its dead-letter queue. */
  public readonly auditQueue: sqs.IQueue;
  public readonly auditDeadLetterQueue: sqs.IQueue;
  /** The audit trail bucket. */
  public readonly auditBucket: s3.IBucket;
  /** Where every alarm goes. */
  public readonly alarmTopic: sns.ITopic;
  /** GET handlers. */
  public readonly readFunction: ServiceFunction;
  /** POST/PUT/DELETE handler: validates and publishes the change. */
  public readonly acceptFunction: ServiceFunction;
  /** Applies changes to the table. */
  public readonly writerFunction: ServiceFunction;
  /** Writes each change to the audit bucket. */
  public readonly auditFunction: ServiceFunction;
  /** The operations dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ProductApiProps = {}) {
    super(scope, id);
    // Secure whatever the user's cdk.json says: SNS may use the queues' key only for this
    // construct's topic (set before any child exists, as context must be).
    this.node.setContext('@aws-cdk/aws-sns-subscriptions:restrictSqsDescryption', true);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;
    const consumerTimeout = props.consumerTimeout ?? Duration.seconds(30);
    const key: kms.IKey = props.encryptionKey ?? createServiceKey(this, 'Key', 'product data at rest');
    this.alarmTopic = resolveAlarmTopic(this, props.alarmTopic);

    this.table = createProductsTable(this, key, removalPolicy);
    const idempotencyTable = createIdempotencyTable(this, key);
    this.auditBucket = createAuditBucket(this, key, removalPolicy, props.auditArchiveAfter ?? Duration.days(365));

    // The topic has a key of its own: the queues' key policy names the topic (SNS may
    // encrypt into the queues only for it), so one shared key would be a dependency cycle.
    const topicKey = createServiceKey(this, 'ChangesTopicKey', 'product change topic');
    const topic = new sns.Topic(this, 'ChangesTopic', {
      fifo: FANOUT.fifo,
      contentBasedDeduplication: FANOUT.contentBasedDeduplication,
      masterKey: topicKey,
      enforceSSL: true,
    });
    this.changesTopic = topic;
    const queueProps = {
      consumerTimeout,
      alarmTopic: this.alarmTopic,
      encryptionKey: key,
      fifo: FANOUT.fifo,
      maxReceiveCount: props.maxReceiveCount,
    };
    const writerQueue = new ReliableQueue(this, 'WriterQueue', queueProps);
    const auditQueue = new ReliableQueue(this, 'AuditQueue', queueProps);
    for (const q of [writerQueue, auditQueue]) {
      topic.addSubscription(new subscriptions.SqsSubscription(q.queue, { rawMessageDelivery: FANOUT.rawMessageDelivery }));
    }
    this.writerQueue = writerQueue.queue;
    this.writerDeadLetterQueue = writerQueue.deadLetterQueue;
    this.auditQueue = auditQueue.queue;
    this.auditDeadLetterQueue = auditQueue.deadLetterQueue;

    const fn = (fid: string, contract: HandlerContract, environment: Record<string, string>, timeout?: Duration) =>
      new ServiceFunction(this, fid, {
        contract,
        environment,
        logRetention,
        sourceMaps: props.sourceMaps,
        ...(timeout ? { timeout } : {}),
      });
    // Keys the HMAC of page tokens, so an edited `nextToken` is refused (400) instead of
    // steering a query. Only the read function reads it.
    const pageTokenSecret = new secretsmanager.Secret(this, 'PageTokenSecret', {
      description: `${this.node.path}: HMAC key of the product list's page tokens`,
      encryptionKey: key,
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    acknowledgeFindings(pageTokenSecret, {
      'AwsSolutions-SMG4': 'It only signs page tokens, which live for one listing; rotating it by hand (a new value) makes outstanding tokens 400 and read functions pick it up within the hour (README, ProductApi).',
    });
    this.readFunction = fn('ReadFunction', ProductApiHandlers.read, {
      [Env.TABLE_NAME]: this.table.tableName,
      [Env.PAGE_TOKEN_SECRET_ARN]: pageTokenSecret.secretArn,
    });
    pageTokenSecret.grantRead(this.readFunction);
    this.acceptFunction = fn('AcceptFunction', ProductApiHandlers.accept, {
      [Env.TABLE_NAME]: this.table.tableName,
      [Env.TOPIC_ARN]: topic.topicArn,
    });
    this.writerFunction = fn('WriterFunction', ProductApiHandlers.writer, {
      [Env.TABLE_NAME]: this.table.tableName,
      [Env.IDEMPOTENCY_TABLE_NAME]: idempotencyTable.tableName,
    }, consumerTimeout);
    this.auditFunction = fn('AuditFunction', ProductApiHandlers.audit, {
      [Env.AUDIT_BUCKET_NAME]: this.auditBucket.bucketName,
    }, consumerTimeout);

    this.table.grantReadData(this.readFunction);
    this.table.grantReadData(this.acceptFunction);
    topic.grantPublish(this.acceptFunction);
    this.table.grantReadWriteData(this.writerFunction);
    idempotencyTable.grantReadWriteData(this.writerFunction);
    this.auditBucket.grantPut(this.auditFunction);
    for (const [consumer, q] of [[this.writerFunction, writerQueue.queue], [this.auditFunction, auditQueue.queue]] as const) {
      consumer.addEventSource(new lambdaEvents.SqsEventSource(q, { batchSize: 10, reportBatchItemFailures: true }));
    }

    const rest = new ProductRestApi(this, 'Rest', {
      readFunction: this.readFunction,
      acceptFunction: this.acceptFunction,
      encryptionKey: key,
      throttle: props.throttle ?? { rateLimit: 100, burstLimit: 200 },
      quota: props.quota ?? { limit: 1_000_000, period: apigw.Period.MONTH },
      logRetention,
    });
    this.api = rest.api;
    this.apiKeySecret = rest.apiKeySecret;
    this.usagePlan = rest.usagePlan;

    const functions = [this.readFunction, this.acceptFunction, this.writerFunction, this.auditFunction];
    for (const f of functions) addFunctionAlarms(this, f.node.id, f, this.alarmTopic);
    addApi5xxAlarm(this, 'Api', this.api, this.alarmTopic, 1);
    this.dashboard = this.createDashboard(functions, [writerQueue, auditQueue]);
    this.acknowledgeLambdaFindings();
  }

  /** Lets `grantee` read the products table (e.g. a consumer in another stack). */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.table.grantReadData(grantee);
  }

  /** Errors of all four handlers, summed. */
  public metricErrors(props?: cloudwatch.MetricOptions): cloudwatch.IMetric {
    const fns = [this.readFunction, this.acceptFunction, this.writerFunction, this.auditFunction];
    const usingMetrics = Object.fromEntries(fns.map((f, i) => [`e${i}`, f.metricErrors(props)]));
    return new cloudwatch.MathExpression({ expression: Object.keys(usingMetrics).join(' + '), usingMetrics, label: 'Handler errors' });
  }

  private createDashboard(functions: ServiceFunction[], queues: ReliableQueue[]): cloudwatch.Dashboard {
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard');
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'API requests and errors', left: [this.api.metricCount(), this.api.metricClientError(), this.api.metricServerError()] }),
      new cloudwatch.GraphWidget({ title: 'API latency p95', left: [this.api.metricLatency({ statistic: 'p95' })] }),
      new cloudwatch.GraphWidget({ title: 'Handler errors', left: functions.map((f) => f.metricErrors()) }),
      new cloudwatch.GraphWidget({ title: 'Handler p95 duration', left: functions.map((f) => f.metricDuration({ statistic: 'p95' })) }),
      new cloudwatch.GraphWidget({
        title: 'Change queues: oldest message age and DLQ depth',
        left: queues.map((q) => q.queue.metricApproximateAgeOfOldestMessage()),
        right: queues.map((q) => q.deadLetterQueue.metricApproximateNumberOfMessagesVisible()),
      }),
    );
    return dashboard;
  }

  private acknowledgeLambdaFindings(): void {
    // Wildcards below come from CDK grants, each scoped to this construct's own resources.
    acknowledgeFindings(this, {
      [`AwsSolutions-IAM5[Resource::${nagArn(this.table)}/index/*]`]: 'Queries of the products table\'s own GSIs (price, name).',
      'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]': 'Encrypting with this construct\'s own key (SNS publish, SQS, S3 puts).',
      'AwsSolutions-IAM5[Action::kms:ReEncrypt*]': 'CDK\'s encrypt/decrypt grant on this construct\'s own key.',
      'AwsSolutions-IAM5[Action::s3:Abort*]': 'grantPut lets the audit logger abort its own multipart uploads.',
      [`AwsSolutions-IAM5[Resource::${nagArn(this.auditBucket)}/*]`]: 'Audit objects have one key per change: the grant covers this bucket\'s objects only.',
      'AwsSolutions-SQS3': 'The queues reported are the dead-letter queues themselves.',
    });
  }

}
