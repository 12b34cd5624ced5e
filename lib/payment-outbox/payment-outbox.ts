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
  acknowledgeFindings, addApi5xxAlarm, addDeadLetterQueueAlarm, addFunctionAlarms, checkDuration, checkInteger, checkNumber,
  createServiceKey, HandlerContract, notify, resolveAlarmTopic, ServiceFunction,
} from '../core';
import {
  OUTBOX_STREAM_FILTER, PAYMENT_EVENT_SOURCE, PAYMENTS_TABLE_SCHEMA, PaymentOutboxDefaults as Defaults, PaymentOutboxEnv as Env,
  PaymentEvents, PaymentEventType, PaymentOutboxHandlers,
} from './contract';
import { PaymentOutboxAlarmThresholds, PaymentOutboxProps } from './payment-outbox-props';
import { createPaymentsTable } from './payments-table';
import { WEBHOOK_PATH, WebhookRestApi } from './webhook-rest-api';
import { SendOnlyQueueDestination } from '../core/send-only-queue-destination';

/**
 * A payment provider's webhook in, payment events out, exactly once per event id in
 * effect: the webhook verifies the provider's signature and writes the payment state and
 * an outbox record in one DynamoDB transaction; the table's stream drives a publisher that
 * puts each outbox record on an EventBridge bus; TTL clears the outbox; a replay function
 * re-publishes a time window with the original event ids; an archive on the created bus
 * keeps the events for replays beyond the outbox's retention.
 */
export class PaymentOutbox extends Construct {
  /** The payment event types, for rules and consumers. */
  public static readonly EVENTS = PaymentEvents;

  /** The bus payment events are published to (source `cdk-event-services.payment-outbox`). */
  public readonly eventBus: events.IEventBus;
  /** The archive of payment events on the created bus; undefined when you passed `eventBus`. */
  public readonly archive?: events.Archive;
  /**
   * Payment state, provider-event ledger and outbox records, one partition per payment.
   * Read it with {@link grantRead}; writes go through the webhook only.
   */
  public readonly table: dynamodb.Table;
  /** The URL to give the payment provider. */
  public readonly webhookUrl: string;
  /** The webhook REST API. */
  public readonly api: apigw.RestApi;
  /** The provider's signing secret (`{ "current", "previous"? }`). */
  public readonly signingSecret: secretsmanager.ISecret;
  /** Verifies, validates and records provider events. */
  public readonly webhookFunction: lambda.Function;
  /** Publishes new outbox records from the table's stream. */
  public readonly publisherFunction: lambda.Function;
  /** Re-publishes a window of outbox records: invoke with `{ "from": ISO, "to": ISO }`. */
  public readonly replayFunction: lambda.Function;
  /** Stream batches the publisher gave up on (after retries and bisection). */
  public readonly publisherDeadLetterQueue: sqs.IQueue;
  /** Where every alarm goes. */
  public readonly alarmTopic: sns.ITopic;
  /** Every alarm this construct created (all notify {@link alarmTopic}). */
  public readonly alarms: cloudwatch.IAlarm[];
  /** The operations dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: PaymentOutboxProps = {}) {
    super(scope, id);
    const settings = this.checkedSettings(props);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;
    // One key for the table, the created secret and the DLQ: each function that uses it
    // needs it for all it touches (the webhook: table + secret), and nothing else shares it.
    const key: kms.IKey = props.encryptionKey ?? createServiceKey(this, 'Key', 'payment data at rest');
    this.alarmTopic = resolveAlarmTopic(this, props.alarmTopic);
    if (props.eventBus) {
      this.eventBus = props.eventBus;
    } else {
      const bus = new events.EventBus(this, 'EventBus', { description: `${this.node.path}: payment events` });
      this.archive = bus.archive('Archive', {
        description: `${this.node.path}: payment events, for replays beyond the outbox retention`,
        eventPattern: { source: [PAYMENT_EVENT_SOURCE] },
        retention: settings.archiveRetention,
      });
      this.eventBus = bus;
    }
    this.table = createPaymentsTable(this, key, removalPolicy);
    this.signingSecret = props.signingSecret ?? this.createSigningSecret(key);
    this.publisherDeadLetterQueue = new sqs.Queue(this, 'PublisherDeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledgeFindings(this.publisherDeadLetterQueue, {
      'AwsSolutions-SQS3': 'This queue is itself a dead-letter queue (the stream source\'s on-failure destination); a DLQ ' +
        'behind it would only move the problem. Its depth alarm pages on the first message.',
    });

    const fn = (fid: string, contract: HandlerContract, environment: Record<string, string>, extra: Partial<lambda.FunctionProps> = {}) =>
      new ServiceFunction(this, fid, {
        contract, environment, logRetention, logEncryptionKey: props.logEncryptionKey, sourceMaps: props.sourceMaps, ...extra,
      });
    this.webhookFunction = fn('WebhookFunction', PaymentOutboxHandlers.webhook, {
      [Env.TABLE_NAME]: this.table.tableName,
      [Env.SIGNING_SECRET_ARN]: this.signingSecret.secretArn,
      [Env.SIGNATURE_TOLERANCE_SECONDS]: String(settings.signatureTolerance.toSeconds()),
      [Env.OUTBOX_RETENTION_SECONDS]: String(settings.outboxRetention.toSeconds()),
    }, { memorySize: 1024 }); // the plan's criterion: confirmation under 100 ms
    this.publisherFunction = fn('PublisherFunction', PaymentOutboxHandlers.publisher, {
      [Env.EVENT_BUS_NAME]: this.eventBus.eventBusName,
    }, { timeout: Duration.seconds(60) });
    this.replayFunction = fn('ReplayFunction', PaymentOutboxHandlers.replay, {
      [Env.TABLE_NAME]: this.table.tableName,
      [Env.EVENT_BUS_NAME]: this.eventBus.eventBusName,
    }, { timeout: Duration.minutes(5) });
    this.grantLeastPrivilege(key);

    this.publisherFunction.addEventSource(new lambdaEvents.DynamoEventSource(this.table, {
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: settings.publisherBatchSize,
      bisectBatchOnError: true,
      retryAttempts: settings.publisherRetryAttempts,
      maxRecordAge: settings.publisherMaxRecordAge,
      reportBatchItemFailures: true,
      parallelizationFactor: 1, // one batch per shard at a time: a payment's events go out in order
      onFailure: new SendOnlyQueueDestination(this.publisherDeadLetterQueue, key),
      filters: [lambda.FilterCriteria.filter(OUTBOX_STREAM_FILTER as unknown as Record<string, unknown>)],
    }));

    const rest = new WebhookRestApi(this, 'Webhook', {
      webhookFunction: this.webhookFunction,
      throttle: props.throttle ?? { rateLimit: 50, burstLimit: 100 },
      logRetention,
      logEncryptionKey: props.logEncryptionKey,
    });
    this.api = rest.api;
    this.webhookUrl = this.api.urlForPath(`/${WEBHOOK_PATH.join('/')}`);

    this.alarms = this.addAlarms(props.alarmThresholds ?? {});
    this.dashboard = this.createDashboard();
  }

  /** A rule pattern for this construct's events, e.g. `eventPattern(PaymentOutbox.EVENTS.SUCCEEDED)`; all types when none are given. */
  public eventPattern(...types: PaymentEventType[]): events.EventPattern {
    return { source: [PAYMENT_EVENT_SOURCE], detailType: types.length > 0 ? types : Object.values(PaymentEvents) };
  }

  /**
   * Lets `grantee` read payments (state, ledger, outbox), e.g. a support tool: `GetItem`,
   * `BatchGetItem` and `Query` on the table and its outbox index, and `kms:Decrypt` on its
   * key. There is no `grantWrite`: payments change only through the signed webhook, so
   * every change is verified, ordered and announced.
   */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
      resourceArns: [this.table.tableArn, this.outboxIndexArn()],
    });
    this.table.encryptionKey?.grant(grantee, 'kms:Decrypt');
    return grant;
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

  private outboxIndexArn(): string {
    return `${this.table.tableArn}/index/${PAYMENTS_TABLE_SCHEMA.outboxByTimeIndex.indexName}`;
  }

  /**
   * Each function gets the actions its code calls, on the resources it calls them on (a
   * construct test lists them per role). KMS: DynamoDB and Secrets Manager need only
   * `kms:Decrypt` from the caller; sending to the encrypted DLQ needs `kms:GenerateDataKey`.
   */
  private grantLeastPrivilege(key: kms.IKey): void {
    const allow = (grantee: iam.IGrantable, actions: string[], resourceArns: string[], conditions?: Record<string, Record<string, unknown>>) =>
      iam.Grant.addToPrincipal({ grantee, actions, resourceArns, conditions });
    // Only this construct's source: a compromised or buggy handler cannot impersonate another service on the bus.
    const putPaymentEvents = (grantee: iam.IGrantable) =>
      allow(grantee, ['events:PutEvents'], [this.eventBus.eventBusArn], { StringEquals: { 'events:source': PAYMENT_EVENT_SOURCE } });

    // webhook (internet-facing): GetItem state + ledger, one TransactWriteItems of Puts
    // (dynamodb:PutItem per item; their conditions need no extra action); the signing secret.
    allow(this.webhookFunction, ['dynamodb:GetItem', 'dynamodb:PutItem'], [this.table.tableArn]);
    key.grant(this.webhookFunction, 'kms:Decrypt');
    const secret = this.signingSecret;
    // An imported secret's ARN may lack the 6-character suffix Secrets Manager appends.
    allow(this.webhookFunction, ['secretsmanager:GetSecretValue'], [secret.secretFullArn ?? `${secret.secretArn}-??????`]);
    if (secret.encryptionKey && secret.encryptionKey !== key) secret.encryptionKey.grant(this.webhookFunction, 'kms:Decrypt');

    // publisher: the stream (the event source adds DescribeStream, GetRecords,
    // GetShardIterator, ListStreams and kms:Decrypt), PutEvents, and the DLQ (below).
    putPaymentEvents(this.publisherFunction);

    // replay: Query on the outbox index only (it never reads items by key or scans).
    allow(this.replayFunction, ['dynamodb:Query'], [this.outboxIndexArn()]);
    key.grant(this.replayFunction, 'kms:Decrypt');
    putPaymentEvents(this.replayFunction);
  }

  private checkedSettings(props: PaymentOutboxProps) {
    const settings = {
      signatureTolerance: props.signatureTolerance ?? Duration.seconds(Defaults.signatureToleranceSeconds),
      outboxRetention: props.outboxRetention ?? Duration.seconds(Defaults.outboxRetentionSeconds),
      publisherBatchSize: props.publisherBatchSize ?? Defaults.publisherBatchSize,
      publisherRetryAttempts: props.publisherRetryAttempts ?? Defaults.publisherRetryAttempts,
      publisherMaxRecordAge: props.publisherMaxRecordAge ?? Duration.seconds(Defaults.publisherMaxRecordAgeSeconds),
      archiveRetention: props.archiveRetention ?? Duration.days(Defaults.archiveRetentionDays),
    };
    checkDuration(this, 'signatureTolerance', settings.signatureTolerance, Duration.seconds(30), Duration.hours(1));
    checkDuration(this, 'outboxRetention', settings.outboxRetention, Duration.days(1), Duration.days(365));
    checkInteger(this, 'publisherBatchSize', settings.publisherBatchSize, 1, 10_000);
    checkInteger(this, 'publisherRetryAttempts', settings.publisherRetryAttempts, 0, 10_000);
    checkDuration(this, 'publisherMaxRecordAge', settings.publisherMaxRecordAge, Duration.seconds(60), Duration.days(7));
    checkDuration(this, 'archiveRetention', settings.archiveRetention, Duration.days(1), Duration.days(3650));
    const t = props.alarmThresholds ?? {};
    checkNumber(this, 'alarmThresholds.functionErrorRatePercent', t.functionErrorRatePercent, 0, 100);
    checkNumber(this, 'alarmThresholds.api5xxRatePercent', t.api5xxRatePercent, 0, 100);
    checkDuration(this, 'alarmThresholds.webhookP95Duration', t.webhookP95Duration, Duration.millis(1), Duration.seconds(29));
    checkDuration(this, 'alarmThresholds.publisherP95Duration', t.publisherP95Duration, Duration.millis(1), Duration.seconds(60));
    checkDuration(this, 'alarmThresholds.replayP95Duration', t.replayP95Duration, Duration.millis(1), Duration.minutes(5));
    checkDuration(this, 'alarmThresholds.publisherIteratorAge', t.publisherIteratorAge, Duration.seconds(1), Duration.days(7));
    return settings;
  }

  private createSigningSecret(key: kms.IKey): secretsmanager.Secret {
    const secret = new secretsmanager.Secret(this, 'SigningSecret', {
      description: `${this.node.path}: webhook signing secret shared with the payment provider`,
      encryptionKey: key,
      generateSecretString: { secretStringTemplate: '{}', generateStringKey: 'current', passwordLength: 48, excludePunctuation: true },
    });
    const reason = 'The payment provider holds this secret too: rotation is a coordinated step a Lambda cannot do alone ' +
      '(README, PaymentOutbox: put {"current": new, "previous": old}, switch the provider, drop previous).';
    acknowledgeFindings(secret, { 'AwsSolutions-SMG4': reason, 'NIST.800.53.R5-SecretsManagerRotationEnabled': reason });
    return secret;
  }

  private addAlarms(thresholds: PaymentOutboxAlarmThresholds): cloudwatch.IAlarm[] {
    const topic = this.alarmTopic;
    const errorRatePercent = thresholds.functionErrorRatePercent;
    const iteratorAge = thresholds.publisherIteratorAge ?? Duration.seconds(60);
    return [
      addApi5xxAlarm(this, 'Webhook', this.api, topic, thresholds.api5xxRatePercent ?? 1),
      ...addFunctionAlarms(this, 'WebhookFunction', this.webhookFunction, topic,
        { errorRatePercent, p95Duration: thresholds.webhookP95Duration ?? Duration.seconds(1) }),
      ...addFunctionAlarms(this, 'PublisherFunction', this.publisherFunction, topic,
        { errorRatePercent, p95Duration: thresholds.publisherP95Duration ?? Duration.seconds(5) }),
      ...addFunctionAlarms(this, 'ReplayFunction', this.replayFunction, topic,
        { errorRatePercent, p95Duration: thresholds.replayP95Duration ?? Duration.minutes(4) }),
      addDeadLetterQueueAlarm(this, 'PublisherDeadLetterQueue', this.publisherDeadLetterQueue, topic),
      notify(this.metricPublisherIteratorAge().createAlarm(this, 'PublisherIteratorAgeAlarm', {
        alarmDescription: `${this.publisherFunction.node.path}: outbox stream iterator age above ${iteratorAge.toSeconds()} s (events are late)`,
        threshold: iteratorAge.toMilliseconds(),
        evaluationPeriods: 3,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }), topic),
    ];
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
}
