import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as lambdaEvents from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  acknowledgeFindings, addApi5xxAlarm, addDeadLetterQueueAlarm, addFunctionAlarms, checkDuration, checkInteger,
  createServiceKey, nagArn, notify, resolveAlarmTopic, ServiceFunction,
} from '../core';
import { paymentEventPattern, PaymentEvents, PaymentEventType } from './payment-event-types';
import { PaymentOutboxProps } from './payment-outbox-props';
import { createPaymentsTable } from './payments-table';
import { OUTBOX_STREAM_FILTER } from './payments-table-schema';
import { WEBHOOK_PATH, WebhookRestApi } from './webhook-rest-api';

const HANDLERS = path.join(__dirname, '..', '..', 'functions', 'payment-outbox');

/**
 * A payment provider's webhook in, payment events out, exactly once per event id in
 * effect: the webhook verifies the provider's signature and writes the payment state and
 * an outbox record in one DynamoDB transaction; the table's stream drives a publisher that
 * puts each outbox record on an EventBridge bus; TTL clears the outbox; a replay function
 * re-publishes a time window with the original event ids.
 */
export class PaymentOutbox extends Construct {
  /** The payment event types, for rules and consumers. */
  public static readonly EVENTS = PaymentEvents;

  /** The bus payment events are published to. */
  public readonly eventBus: events.IEventBus;
  /** Payment state, provider-event ledger and outbox records. */
  public readonly paymentsTable: dynamodb.Table;
  /** The URL to give the payment provider. */
  public readonly webhookUrl: string;
  /** The webhook REST API. */
  public readonly api: apigw.RestApi;
  /** The provider's signing secret (`{ "current", "previous"? }`). */
  public readonly signingSecret: secretsmanager.ISecret;
  /** Verifies, validates and records provider events. */
  public readonly webhookFunction: ServiceFunction;
  /** Publishes new outbox records from the table's stream. */
  public readonly publisherFunction: ServiceFunction;
  /** Re-publishes a window of outbox records: invoke with `{ "from": ISO, "to": ISO }`. */
  public readonly replayFunction: ServiceFunction;
  /** Stream batches the publisher gave up on (after retries and bisection). */
  public readonly publisherDeadLetterQueue: sqs.IQueue;
  /** Where every alarm goes. */
  public readonly alarmTopic: sns.ITopic;
  /** The operations dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: PaymentOutboxProps = {}) {
    super(scope, id);
    const settings = this.checkedSettings(props);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;
    const key: kms.IKey = props.encryptionKey ?? createServiceKey(this, 'Key', 'payment data at rest');
    this.alarmTopic = resolveAlarmTopic(this, props.alarmTopic);
    this.eventBus = props.eventBus ?? new events.EventBus(this, 'EventBus', { description: `${this.node.path}: payment events` });
    this.paymentsTable = createPaymentsTable(this, key, removalPolicy);
    this.signingSecret = props.signingSecret ?? this.createSigningSecret(key);
    this.publisherDeadLetterQueue = new sqs.Queue(this, 'PublisherDeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    const fn = (fid: string, file: string, serviceName: string, environment: Record<string, string>, extra: Partial<lambda.FunctionProps> = {}) =>
      new ServiceFunction(this, fid, {
        entry: path.join(HANDLERS, file), serviceName, environment, logRetention, sourceMaps: props.sourceMaps, ...extra,
      });
    this.webhookFunction = fn('WebhookFunction', 'webhook.ts', 'payment-outbox-webhook', {
      PAYMENTS_TABLE_NAME: this.paymentsTable.tableName,
      SIGNING_SECRET_ARN: this.signingSecret.secretArn,
      SIGNATURE_TOLERANCE_SECONDS: String(settings.signatureTolerance.toSeconds()),
      OUTBOX_RETENTION_SECONDS: String(settings.outboxRetention.toSeconds()),
    }, { memorySize: 1024 }); // the plan's criterion: confirmation under 100 ms
    this.publisherFunction = fn('PublisherFunction', 'publish-outbox.ts', 'payment-outbox-publisher', {
      EVENT_BUS_NAME: this.eventBus.eventBusName,
    }, { timeout: Duration.seconds(60) });
    this.replayFunction = fn('ReplayFunction', 'replay-outbox.ts', 'payment-outbox-replay', {
      PAYMENTS_TABLE_NAME: this.paymentsTable.tableName,
      EVENT_BUS_NAME: this.eventBus.eventBusName,
    }, { timeout: Duration.minutes(5) });

    this.paymentsTable.grantReadWriteData(this.webhookFunction);
    this.signingSecret.grantRead(this.webhookFunction);
    this.eventBus.grantPutEventsTo(this.publisherFunction);
    this.paymentsTable.grantReadData(this.replayFunction);
    this.eventBus.grantPutEventsTo(this.replayFunction);
    this.publisherFunction.addEventSource(new lambdaEvents.DynamoEventSource(this.paymentsTable, {
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: settings.publisherBatchSize,
      bisectBatchOnError: true,
      retryAttempts: settings.publisherRetryAttempts,
      maxRecordAge: settings.publisherMaxRecordAge,
      reportBatchItemFailures: true,
      parallelizationFactor: 1, // one batch per shard at a time: a payment's events go out in order
      onFailure: new lambdaEvents.SqsDlq(this.publisherDeadLetterQueue),
      filters: [lambda.FilterCriteria.filter(OUTBOX_STREAM_FILTER as unknown as Record<string, unknown>)],
    }));

    const rest = new WebhookRestApi(this, 'Webhook', {
      webhookFunction: this.webhookFunction,
      throttle: props.throttle ?? { rateLimit: 50, burstLimit: 100 },
      logRetention,
    });
    this.api = rest.api;
    this.webhookUrl = this.api.urlForPath(`/${WEBHOOK_PATH.join('/')}`);

    this.addAlarms();
    this.dashboard = this.createDashboard();
    this.acknowledgeGrantFindings();
  }

  /** A rule pattern for this construct's events, e.g. `eventPattern(PaymentOutbox.EVENTS.SUCCEEDED)`. */
  public eventPattern(...types: PaymentEventType[]): events.EventPattern {
    return paymentEventPattern(...types);
  }

  /** Lets `grantee` read payments (state, ledger, outbox), e.g. a support tool. */
  public grantReadPayments(grantee: iam.IGrantable): iam.Grant {
    return this.paymentsTable.grantReadData(grantee);
  }

  /** How far behind the stream the publisher is (ms, maximum). */
  public metricPublisherIteratorAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.publisherFunction.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(1), ...props });
  }

  /** Errors of the three handlers, summed. */
  public metricErrors(props?: cloudwatch.MetricOptions): cloudwatch.IMetric {
    const fns = [this.webhookFunction, this.publisherFunction, this.replayFunction];
    const usingMetrics = Object.fromEntries(fns.map((f, i) => [`e${i}`, f.metricErrors(props)]));
    return new cloudwatch.MathExpression({ expression: Object.keys(usingMetrics).join(' + '), usingMetrics, label: 'Handler errors' });
  }

  private checkedSettings(props: PaymentOutboxProps) {
    const p = this.node.path;
    const settings = {
      signatureTolerance: props.signatureTolerance ?? Duration.minutes(5),
      outboxRetention: props.outboxRetention ?? Duration.days(7),
      publisherBatchSize: props.publisherBatchSize ?? 100,
      publisherRetryAttempts: props.publisherRetryAttempts ?? 10,
      publisherMaxRecordAge: props.publisherMaxRecordAge ?? Duration.hours(6),
    };
    checkDuration(p, 'signatureTolerance', settings.signatureTolerance, Duration.seconds(30), Duration.hours(1));
    checkDuration(p, 'outboxRetention', settings.outboxRetention, Duration.days(1), Duration.days(365));
    checkInteger(p, 'publisherBatchSize', settings.publisherBatchSize, 1, 10_000);
    checkInteger(p, 'publisherRetryAttempts', settings.publisherRetryAttempts, 0, 10_000);
    checkDuration(p, 'publisherMaxRecordAge', settings.publisherMaxRecordAge, Duration.seconds(60), Duration.days(7));
    return settings;
  }

  private createSigningSecret(key: kms.IKey): secretsmanager.Secret {
    const secret = new secretsmanager.Secret(this, 'SigningSecret', {
      description: `${this.node.path}: webhook signing secret shared with the payment provider`,
      encryptionKey: key,
      generateSecretString: { secretStringTemplate: '{}', generateStringKey: 'current', passwordLength: 48, excludePunctuation: true },
    });
    acknowledgeFindings(secret, {
      'AwsSolutions-SMG4': 'The payment provider holds this secret too: rotation is a coordinated step (README, PaymentOutbox: put {"current": new, "previous": old}, switch the provider, drop previous).',
    });
    return secret;
  }

  private addAlarms(): void {
    const topic = this.alarmTopic;
    addApi5xxAlarm(this, 'Webhook', this.api, topic, 1);
    addFunctionAlarms(this, 'WebhookFunction', this.webhookFunction, topic, { p95Duration: Duration.seconds(1) });
    addFunctionAlarms(this, 'PublisherFunction', this.publisherFunction, topic, { p95Duration: Duration.seconds(5) });
    addFunctionAlarms(this, 'ReplayFunction', this.replayFunction, topic, { p95Duration: Duration.minutes(4) });
    addDeadLetterQueueAlarm(this, 'PublisherDeadLetterQueue', this.publisherDeadLetterQueue, topic);
    notify(this.metricPublisherIteratorAge().createAlarm(this, 'PublisherIteratorAgeAlarm', {
      alarmDescription: `${this.publisherFunction.node.path}: outbox stream iterator age above 60 s (events are late)`,
      threshold: 60_000,
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }), topic);
  }

  private createDashboard(): cloudwatch.Dashboard {
    const functions = [this.webhookFunction, this.publisherFunction, this.replayFunction];
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard');
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Webhook requests and errors', left: [this.api.metricCount(), this.api.metricClientError(), this.api.metricServerError()] }),
      new cloudwatch.GraphWidget({ title: 'Webhook latency p95', left: [this.api.metricLatency({ statistic: 'p95' }), this.webhookFunction.metricDuration({ statistic: 'p95' })] }),
      new cloudwatch.GraphWidget({ title: 'Handler errors', left: functions.map((f) => f.metricErrors()) }),
      new cloudwatch.GraphWidget({
        title: 'Publisher: iterator age (ms) and DLQ depth',
        left: [this.metricPublisherIteratorAge()],
        right: [this.publisherDeadLetterQueue.metricApproximateNumberOfMessagesVisible()],
      }),
    );
    return dashboard;
  }

  private acknowledgeGrantFindings(): void {
    // Wildcards below come from CDK grants, each scoped to this construct's own resources.
    acknowledgeFindings(this, {
      [`AwsSolutions-IAM5[Resource::${nagArn(this.paymentsTable)}/index/*]`]: 'Replay queries the payments table\'s own outbox-by-time index.',
      'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]': 'Encrypting with this construct\'s key (table writes, DLQ messages).',
      'AwsSolutions-IAM5[Action::kms:ReEncrypt*]': 'CDK\'s encrypt/decrypt grant on this construct\'s key.',
      'AwsSolutions-SQS3': 'The queue reported is the publisher\'s dead-letter queue itself.',
    });
  }
}
