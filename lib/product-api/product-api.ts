import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as lambdaEvents from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  acknowledgeFindings, addApi5xxAlarm, addDeadLetterQueueAlarm, addFunctionAlarms, checkDuration, checkNumber, createIdempotencyTable,
  createPageTokenSecret, createServiceKey, HandlerContract, nagArn, propError, ReliableQueue, resolveAlarmTopic, ServiceFunction,
} from '../core';
import { createAuditBucket } from './audit-bucket';
import {
  CallerIdentitySource, CHANGE_FANOUT_DEFINITION as FANOUT, PRODUCTS_TABLE_SCHEMA, ProductApiEnv as Env, ProductApiHandlers, ProductEvents,
  type ProductEventType,
} from './contract';
import { ProductApiProps } from './product-api-props';
import { DEFAULT_API_KEY_CLIENT, ProductRestApi } from './product-rest-api';
import { createProductsTable } from './product-tables';
import { ApiAuthorization } from '../core/api-authorization';

/**
 * A product catalogue service: a REST API at `/v1.0/products` that reads straight from
 * DynamoDB and accepts writes (202) as change events. Every change fans out from a FIFO
 * topic to two FIFO queues, one for the writer and one for the audit logger, so both see
 * every change, in order per product; each change names its caller.
 */
export class ProductApi extends Construct {
  /** The event types published on {@link changesTopic} (`eventType` message attribute and envelope field). */
  public static readonly EVENTS = ProductEvents;

  /** The REST API. */
  public readonly api: apigw.RestApi;
  /** The products table (read it with {@link grantRead}; writes go through the API, so they are ordered and audited). */
  public readonly table: dynamodb.Table;
  /** Each client's API key, by client name (`apiKeys` prop); empty without keys. */
  public readonly apiKeys: Readonly<Record<string, apigw.IApiKey>>;
  /** Each client's API key value in Secrets Manager, by client name. */
  public readonly apiKeySecrets: Readonly<Record<string, secretsmanager.ISecret>>;
  /**
   * The value of the `default` client's API key (or of the first client's). Kept for code
   * written when there was one key; prefer {@link apiKeySecrets}. Undefined without keys.
   */
  public readonly apiKeySecret?: secretsmanager.ISecret;
  /** The usage plan (throttle, quota) every API key belongs to. */
  public readonly usagePlan: apigw.UsagePlan;
  /** Every accepted change is published here (FIFO, grouped by product id); subscribe with {@link eventPattern}. */
  public readonly changesTopic: sns.ITopic;
  /** The writer's queue. */
  public readonly writerQueue: sqs.IQueue;
  /** Changes the writer failed `maxReceiveCount` times. */
  public readonly writerDeadLetterQueue: sqs.IQueue;
  /** The audit logger's queue. */
  public readonly auditQueue: sqs.IQueue;
  /** Changes the audit logger failed `maxReceiveCount` times. */
  public readonly auditDeadLetterQueue: sqs.IQueue;
  /**
   * Changes SNS could not deliver into the writer's or the audit logger's queue (e.g. the
   * queue's key disabled), by consumer: `writer`, `audit`. Each has a depth alarm.
   */
  public readonly subscriptionDeadLetterQueues: Readonly<Record<'writer' | 'audit', sqs.IQueue>>;
  /** The audit trail bucket: one JSON object per change, caller included. */
  public readonly auditBucket: s3.IBucket;
  /** Where every alarm goes. */
  public readonly alarmTopic: sns.ITopic;
  /** Every alarm this construct created (all notify {@link alarmTopic}). */
  public readonly alarms: cloudwatch.IAlarm[];
  /** GET handlers. */
  public readonly readFunction: lambda.Function;
  /** POST/PUT/DELETE handler: validates and publishes the change. */
  public readonly acceptFunction: lambda.Function;
  /** Applies changes to the table. */
  public readonly writerFunction: lambda.Function;
  /** Writes each change to the audit bucket. */
  public readonly auditFunction: lambda.Function;
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
    const authorization = props.authorization ?? ApiAuthorization.apiKey();
    const thresholds = props.alarmThresholds ?? {};
    checkNumber(this, 'alarmThresholds.functionErrorRatePercent', thresholds.functionErrorRatePercent, 0, 100);
    checkNumber(this, 'alarmThresholds.api5xxRatePercent', thresholds.api5xxRatePercent, 0, 100);
    const p95 = thresholds.functionP95Duration;
    if (p95 && !p95.isUnresolved() && (p95.toMilliseconds() < 1 || p95.toMilliseconds() > 900_000)) {
      throw propError(this, 'alarmThresholds.functionP95Duration', `must be between 1 ms and 15 minutes (a Lambda timeout's maximum), got ${p95.toHumanString()}`);
    }
    checkDuration(this, 'alarmThresholds.queueMaxMessageAge', thresholds.queueMaxMessageAge, Duration.minutes(1), Duration.days(14));

    // Keys. One key (`Key`) for the product data and the change messages: the tables, the
    // queues and their DLQs, and the secrets. Sharing it shares no access: every grant on
    // it names one action for one function, and a function reaches data only through the
    // table, queue or secret permissions it also holds. The audit bucket gets a key of its
    // own (`AuditKey`): its readers are auditors outside the service, who must not hold a
    // key that also opens the catalogue and the change stream. The changes topic has its
    // own key too (below). A user's `encryptionKey` replaces both Key and AuditKey.
    const key: kms.IKey = props.encryptionKey ?? createServiceKey(this, 'Key', 'product data and change messages at rest');
    const auditKey: kms.IKey = props.encryptionKey ?? createServiceKey(this, 'AuditKey', 'product audit trail at rest');
    this.alarmTopic = resolveAlarmTopic(this, props.alarmTopic);

    this.table = createProductsTable(this, key, removalPolicy);
    const idempotencyTable = createIdempotencyTable(this, key);
    this.auditBucket = createAuditBucket(this, auditKey, removalPolicy, props.auditArchiveAfter ?? Duration.days(365));

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
      maxMessageAge: thresholds.queueMaxMessageAge,
    };
    const writerQueue = new ReliableQueue(this, 'WriterQueue', queueProps);
    const auditQueue = new ReliableQueue(this, 'AuditQueue', queueProps);
    const subscriptionDlqs: Record<'writer' | 'audit', sqs.Queue> = { writer: undefined!, audit: undefined! };
    for (const [consumer, q, dlqId] of [['writer', writerQueue, 'WriterSubscriptionDLQ'], ['audit', auditQueue, 'AuditSubscriptionDLQ']] as const) {
      // A change SNS cannot deliver into the queue (after its retries) lands here instead
      // of being dropped after the API already answered 202.
      const dlq = new sqs.Queue(this, dlqId, {
        fifo: true,
        contentBasedDeduplication: false,
        encryption: sqs.QueueEncryption.KMS,
        encryptionMasterKey: key,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      addDeadLetterQueueAlarm(this, dlqId, dlq, this.alarmTopic);
      acknowledgeFindings(dlq, {
        'AwsSolutions-SQS3': 'This queue is itself a dead-letter queue (the SNS subscription\'s redrive ' +
        'target); a DLQ behind it would only move the problem. Its depth alarm pages on the first message.',
      });
      topic.addSubscription(new subscriptions.SqsSubscription(q.queue, { rawMessageDelivery: FANOUT.rawMessageDelivery, deadLetterQueue: dlq }));
      subscriptionDlqs[consumer] = dlq;
    }
    this.subscriptionDeadLetterQueues = subscriptionDlqs;
    this.writerQueue = writerQueue.queue;
    this.writerDeadLetterQueue = writerQueue.deadLetterQueue;
    this.auditQueue = auditQueue.queue;
    this.auditDeadLetterQueue = auditQueue.deadLetterQueue;

    const fn = (fid: string, contract: HandlerContract, environment: Record<string, string>, timeout?: Duration) =>
      new ServiceFunction(this, fid, {
        contract,
        environment,
        logRetention,
        logEncryptionKey: props.logEncryptionKey,
        sourceMaps: props.sourceMaps,
        ...(timeout ? { timeout } : {}),
      });
    const pageTokenSecret = createPageTokenSecret(this, key, "product list's", 'ProductApi');
    this.readFunction = fn('ReadFunction', ProductApiHandlers.read, {
      [Env.TABLE_NAME]: this.table.tableName,
      [Env.PAGE_TOKEN_SECRET_ARN]: pageTokenSecret.secretArn,
    });
    this.acceptFunction = fn('AcceptFunction', ProductApiHandlers.accept, {
      [Env.TABLE_NAME]: this.table.tableName,
      [Env.TOPIC_ARN]: topic.topicArn,
      [Env.CALLER_IDENTITY]: authorization.identitySource,
    });
    this.writerFunction = fn('WriterFunction', ProductApiHandlers.writer, {
      [Env.TABLE_NAME]: this.table.tableName,
      [Env.IDEMPOTENCY_TABLE_NAME]: idempotencyTable.tableName,
    }, consumerTimeout);
    this.auditFunction = fn('AuditFunction', ProductApiHandlers.audit, {
      [Env.AUDIT_BUCKET_NAME]: this.auditBucket.bucketName,
    }, consumerTimeout);

    // Least privilege: each function gets the actions its code calls, on the resources it
    // calls them on (a construct test lists them per role).
    const indexArn = (name: string) => `${this.table.tableArn}/index/${name}`;
    // read-products: GetItem by id, Query on the two sparse indexes; the page-token secret.
    grantOn(this.readFunction, ['dynamodb:GetItem'], [this.table.tableArn]);
    grantOn(this.readFunction, ['dynamodb:Query'], [indexArn(PRODUCTS_TABLE_SCHEMA.priceIndex.indexName), indexArn(PRODUCTS_TABLE_SCHEMA.nameIndex.indexName)]);
    grantOn(this.readFunction, ['secretsmanager:GetSecretValue'], [pageTokenSecret.secretArn]);
    key.grant(this.readFunction, 'kms:Decrypt');
    // accept-change: GetItem (does the product exist?), Publish on the encrypted topic.
    grantOn(this.acceptFunction, ['dynamodb:GetItem'], [this.table.tableArn]);
    key.grant(this.acceptFunction, 'kms:Decrypt');
    grantOn(this.acceptFunction, ['sns:Publish'], [topic.topicArn]);
    topicKey.grant(this.acceptFunction, 'kms:Decrypt', 'kms:GenerateDataKey');
    // apply-change: one conditional UpdateItem per change; Powertools idempotency records
    // (PutItem in progress, GetItem on a conflict, UpdateItem when done, DeleteItem on failure).
    grantOn(this.writerFunction, ['dynamodb:UpdateItem'], [this.table.tableArn]);
    idempotencyTable.grant(this.writerFunction, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem');
    key.grant(this.writerFunction, 'kms:Decrypt');
    // audit-change: one PutObject per change under changes/ (SSE-KMS: GenerateDataKey).
    grantOn(this.auditFunction, ['s3:PutObject'], [this.auditBucket.arnForObjects('changes/*')]);
    auditKey.grant(this.auditFunction, 'kms:GenerateDataKey');
    // The event sources add what polling needs (sqs:ReceiveMessage, DeleteMessage,
    // ChangeMessageVisibility, GetQueueAttributes, GetQueueUrl, and kms:Decrypt on the queue key).
    for (const [consumer, q] of [[this.writerFunction, writerQueue.queue], [this.auditFunction, auditQueue.queue]] as const) {
      consumer.addEventSource(new lambdaEvents.SqsEventSource(q, { batchSize: 10, reportBatchItemFailures: true }));
    }

    const apiKeyClients = props.apiKeys ?? (authorization.identitySource === CallerIdentitySource.API_KEY ? [DEFAULT_API_KEY_CLIENT] : []);
    const rest = new ProductRestApi(this, 'Rest', {
      readFunction: this.readFunction,
      acceptFunction: this.acceptFunction,
      encryptionKey: key,
      throttle: props.throttle ?? { rateLimit: 100, burstLimit: 200 },
      quota: props.quota ?? { limit: 1_000_000, period: apigw.Period.MONTH },
      logRetention,
      logEncryptionKey: props.logEncryptionKey,
      authorization,
      apiKeys: apiKeyClients,
    });
    this.api = rest.api;
    this.apiKeys = rest.apiKeys;
    this.apiKeySecrets = rest.apiKeySecrets;
    this.apiKeySecret = rest.apiKeySecrets[DEFAULT_API_KEY_CLIENT] ?? rest.apiKeySecrets[apiKeyClients[0]];
    this.usagePlan = rest.usagePlan;

    const functions = [this.readFunction, this.acceptFunction, this.writerFunction, this.auditFunction];
    for (const f of functions) {
      addFunctionAlarms(this, f.node.id, f, this.alarmTopic, {
        errorRatePercent: thresholds.functionErrorRatePercent,
        p95Duration: thresholds.functionP95Duration,
      });
    }
    addApi5xxAlarm(this, 'Api', this.api, this.alarmTopic, thresholds.api5xxRatePercent ?? 1);
    this.dashboard = this.createDashboard(functions, [writerQueue, auditQueue]);
    this.alarms = this.node.findAll().filter((c): c is cloudwatch.Alarm => c instanceof cloudwatch.Alarm);
    this.acknowledgeFindings();
  }

  /**
   * A filter policy for a subscription to {@link changesTopic} that delivers only these
   * event types (matched on the `eventType` message attribute), e.g.
   * `products.changesTopic.addSubscription(new SqsSubscription(q, { filterPolicy: products.eventPattern(ProductApi.EVENTS.DELETED) }))`.
   * With no types, every product event.
   */
  public eventPattern(...types: ProductEventType[]): Record<string, sns.SubscriptionFilter> {
    const allowlist = types.length > 0 ? types : Object.values(ProductEvents);
    return { eventType: sns.SubscriptionFilter.stringFilter({ allowlist }) };
  }

  /**
   * Lets `grantee` read the products table directly (e.g. a report in another stack):
   * DynamoDB's read actions and `kms:Decrypt`. There is no `grantWrite`: writes go through
   * the API, so they are ordered, idempotent and audited.
   */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.table.grantReadData(grantee);
  }

  /**
   * Lets `grantee` call the API (`execute-api:Invoke`), all methods or only the GETs; what
   * {@link ApiAuthorization.iam} callers need. An API key is still required when
   * `apiKeys` are configured.
   */
  public grantInvoke(grantee: iam.IGrantable, options: { readOnly?: boolean } = {}): iam.Grant {
    const stage = this.api.deploymentStage.stageName;
    const methods = options.readOnly ? ['GET'] : ['GET', 'POST', 'PUT', 'DELETE'];
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: methods.flatMap((m) => [
        this.api.arnForExecuteApi(m, '/v1.0/products', stage),
        this.api.arnForExecuteApi(m, '/v1.0/products/*', stage),
      ]),
    });
  }

  /** Errors of all four handlers, summed. */
  public metricErrors(props?: cloudwatch.MetricOptions): cloudwatch.IMetric {
    const fns = [this.readFunction, this.acceptFunction, this.writerFunction, this.auditFunction];
    const usingMetrics = Object.fromEntries(fns.map((f, i) => [`e${i}`, f.metricErrors(props)]));
    return new cloudwatch.MathExpression({ expression: Object.keys(usingMetrics).join(' + '), usingMetrics, label: 'Handler errors' });
  }

  private createDashboard(functions: lambda.Function[], queues: ReliableQueue[]): cloudwatch.Dashboard {
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard');
    const subscriptionDlqs = Object.values(this.subscriptionDeadLetterQueues);
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'API requests and errors', left: [this.api.metricCount(), this.api.metricClientError(), this.api.metricServerError()] }),
      new cloudwatch.GraphWidget({ title: 'API latency p95', left: [this.api.metricLatency({ statistic: 'p95' })] }),
      new cloudwatch.GraphWidget({ title: 'Handler errors', left: functions.map((f) => f.metricErrors()) }),
      new cloudwatch.GraphWidget({ title: 'Handler p95 duration', left: functions.map((f) => f.metricDuration({ statistic: 'p95' })) }),
      new cloudwatch.GraphWidget({
        title: 'Change queues: oldest message age and DLQ depth',
        left: queues.map((q) => q.queue.metricApproximateAgeOfOldestMessage()),
        right: [...queues.map((q) => q.deadLetterQueue), ...subscriptionDlqs].map((q) => q.metricApproximateNumberOfMessagesVisible()),
      }),
    );
    return dashboard;
  }

  private acknowledgeFindings(): void {
    acknowledgeFindings(this, {
      [`AwsSolutions-IAM5[Resource::${nagArn(this.auditBucket)}/changes/*]`]:
        'The audit logger writes one object per change, under changes/<productId>/: the grant is PutObject on that prefix of this bucket.',
    });
  }
}

/** One statement: exactly these actions on exactly these resources. */
function grantOn(grantee: iam.IGrantable, actions: string[], resourceArns: string[]): iam.Grant {
  return iam.Grant.addToPrincipal({ grantee, actions, resourceArns });
}
