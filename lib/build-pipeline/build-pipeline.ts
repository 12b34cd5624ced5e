import { Duration, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as lambdaEvents from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { createBuildBuckets, ScopedQueueDestination } from './build-buckets';
import { createBuildJobsTable } from './build-jobs-table';
import { BuildPipelineProps } from './build-pipeline-props';
import { BuildRestApi } from './build-rest-api';
import { resolveAlarmThresholds, resolveBuildSettings } from './build-settings';
import { ContainerBuilds, FINISHED_BUILD_STATUSES } from './container-builds';
import {
  BUILD_EVENT_PUBLISHED_LOG_MESSAGE, BUILD_EVENT_SOURCE, BUILD_JOBS_TABLE_SCHEMA, BUILD_WORKER_MAX_RECEIVES, BuildEvents,
  BuildPipelineEnv as Env, BuildPipelineHandlers as H, CONTAINER_BUILDS_DISABLED, UploadLayout, ArtifactLayout, type BuildEventType,
} from './contract';
import {
  acknowledgeFindings, addApi5xxAlarm, addDeadLetterQueueAlarm, addFunctionAlarms, allowServiceIntoQueues, createPageTokenSecret, createServiceKey,
  type HandlerContract,
  inBothRegulatoryPacks, nagArn, notify, ReliableQueue, resolveAlarmTopic, ServiceFunction,
} from '../core';
import { ApiAuthorization } from '../core/api-authorization';
import { RuleQueueTarget } from '../core/rule-queue-target';
import { SendOnlyQueueDestination } from '../core/send-only-queue-destination';

/** The jobs table's stream records the publisher sees: job items only (not Idempotency-Key or delivery items), never TTL removals. */
export const JOB_STREAM_FILTER = {
  eventName: ['INSERT', 'MODIFY'],
  dynamodb: { Keys: { [BUILD_JOBS_TABLE_SCHEMA.sortKey]: { S: ['JOB'] } } },
} as const;

const METRIC_NAMESPACE = 'CdkEventServices/BuildPipeline';
/** The id of CDK's stack-wide bucket-notifications handler (aws-s3's NotificationsResourceHandler). */
const BUCKET_NOTIFICATIONS_HANDLER_ID = 'BucketNotificationsHandler050a0587b7544547bf325f094a3db834';

/**
 * Asynchronous build jobs: `POST /v1.0/builds` creates a job (202) with a presigned S3 POST
 * for its ZIP; the upload's notification queues the job for the worker, which checks and
 * extracts the archive into the artifacts bucket (or hands a Dockerfile to CodeBuild, when
 * container builds are on); every status change is published on the bus from the jobs
 * table's stream, and delivered to the job's `webhookUrl` as a signed Standard Webhook.
 */
export class BuildPipeline extends Construct {
  /** The build event types (EventBridge `detail-type`, source `cdk-event-services.build-pipeline`). */
  public static readonly EVENTS = BuildEvents;

  /** Jobs, Idempotency-Key items and webhook delivery logs. Read it with {@link grantRead}. */
  public readonly table: dynamodb.Table;
  /** Uploaded archives (`uploads/{jobId}.zip`, deleted after a day). */
  public readonly uploadsBucket: s3.Bucket;
  /** Build outputs: `builds/{jobId}/artifact.zip`, `manifest.json`, `files/…`. Read with {@link grantReadArtifacts}. */
  public readonly artifactsBucket: s3.Bucket;
  /** The bus build events are published to. */
  public readonly eventBus: events.IEventBus;
  /** The archive of build events on the created bus; undefined when you passed `eventBus`. */
  public readonly archive?: events.Archive;
  /** The build REST API (`/v1.0/builds`). */
  public readonly api: apigw.RestApi;
  /** Each client's API key, by client name (`apiKeys` prop). */
  public readonly apiKeys: Readonly<Record<string, apigw.IApiKey>>;
  /** Each client's API key value in Secrets Manager, by client name. */
  public readonly apiKeySecrets: Readonly<Record<string, secretsmanager.ISecret>>;
  /** The usage plan every API key belongs to. */
  public readonly usagePlan: apigw.UsagePlan;
  /** The webhook signing secret (`{ current, previous?, previousUntil? }`, rotated). Receivers verify with it: {@link grantReadWebhookSecret}. */
  public readonly webhookSigningSecret: secretsmanager.ISecret;
  /** Upload notifications waiting for the worker. */
  public readonly buildQueue: sqs.IQueue;
  /** Upload notifications the worker failed on every receive. */
  public readonly buildDeadLetterQueue: sqs.IQueue;
  /** Build events waiting for webhook delivery. */
  public readonly webhookQueue: sqs.IQueue;
  /** Build events whose webhook attempts are spent (or EventBridge could not deliver to the queue). */
  public readonly webhookDeadLetterQueue: sqs.IQueue;
  /** Stream batches the publisher gave up on (after retries and bisection). */
  public readonly publisherDeadLetterQueue: sqs.IQueue;
  /** Invocations of the expiry schedule and the container-state rule that EventBridge could not deliver. */
  public readonly invocationDeadLetterQueue: sqs.IQueue;
  /** The container image repository; undefined without `containerBuilds`. */
  public readonly containerRepository?: ecr.IRepository;
  /** The CodeBuild project of container builds; undefined without `containerBuilds`. */
  public readonly containerProject?: codebuild.IProject;
  /** POST /v1.0/builds. */
  public readonly createFunction: lambda.Function;
  /** The GETs. */
  public readonly readFunction: lambda.Function;
  /** The build worker. */
  public readonly workerFunction: lambda.Function;
  /** Fails jobs whose upload window passed (every 5 minutes). */
  public readonly expireFunction: lambda.Function;
  /** Publishes status changes from the jobs table's stream. */
  public readonly publisherFunction: lambda.Function;
  /** Delivers status webhooks. */
  public readonly webhookFunction: lambda.Function;
  /** Rotates the webhook signing secret. */
  public readonly rotationFunction: lambda.Function;
  /** Completes or fails container builds from CodeBuild's state changes; undefined without `containerBuilds`. */
  public readonly containerStateFunction?: lambda.Function;
  /** Where every alarm goes. */
  public readonly alarmTopic: sns.ITopic;
  /** Every alarm this construct created (all notify {@link alarmTopic}). */
  public readonly alarms: cloudwatch.IAlarm[];
  /** Builds, failures, queue age, worker duration, webhook deliveries. */
  public readonly dashboard: cloudwatch.Dashboard;

  private readonly key: kms.IKey;
  private readonly functions: lambda.Function[];
  private readonly buildsFinished: { completed: cloudwatch.Metric; failed: cloudwatch.Metric };

  constructor(scope: Construct, id: string, props: BuildPipelineProps = {}) {
    super(scope, id);
    // A rule → queue target's policy names the rule, whatever the user's cdk.json says.
    this.node.setContext('@aws-cdk/aws-events:eventsTargetQueueSameAccount', true);
    const s = resolveBuildSettings(this, props);
    const thresholds = resolveAlarmThresholds(this, props.alarmThresholds ?? {});
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;
    const logEncryptionKey = props.logEncryptionKey;
    // One key for the jobs, archives, artifacts, messages, secrets and images: every grant on
    // it names the actions one function needs, and a function reaches data only through the
    // table, bucket, queue or secret permissions it also holds.
    const key: kms.IKey = props.encryptionKey ?? createServiceKey(this, 'Key', 'build jobs, archives, artifacts and messages at rest');
    this.key = key;
    this.alarmTopic = resolveAlarmTopic(this, props.alarmTopic);

    if (props.eventBus) {
      this.eventBus = props.eventBus;
    } else {
      const bus = new events.EventBus(this, 'EventBus', { description: `${this.node.path}: build events` });
      this.archive = bus.archive('Archive', {
        description: `${this.node.path}: build events, for replays`,
        eventPattern: { source: [BUILD_EVENT_SOURCE] },
        retention: s.archiveRetention,
      });
      this.eventBus = bus;
    }

    this.table = createBuildJobsTable(this, key, removalPolicy);
    const buckets = createBuildBuckets(this, key, removalPolicy, s.artifactRetention);
    this.uploadsBucket = buckets.uploads;
    this.artifactsBucket = buckets.artifacts;

    const container = s.container ? new ContainerBuilds(this, 'ContainerBuilds', {
      artifactsBucket: this.artifactsBucket,
      key,
      timeout: s.container.timeout,
      computeType: s.container.computeType,
      maxImageCount: s.container.maxImageCount,
      removalPolicy,
      logRetention,
      logEncryptionKey,
    }) : undefined;
    this.containerRepository = container?.repository;
    this.containerProject = container?.project;
    const containerProject = container?.project.projectName ?? CONTAINER_BUILDS_DISABLED;

    // Secrets: the page-token HMAC key (read builds only) and the webhook signing secret.
    const pageTokenSecret = createPageTokenSecret(this, key, "build list's", 'BuildPipeline');
    // 64 letters and digits: the handlers read a value without `whsec_` as the base64 of the key (48 bytes);
    // the first rotation (right after deployment) writes prefixed values.
    const webhookSecret = new secretsmanager.Secret(this, 'WebhookSigningSecret', {
      description: `${this.node.path}: Standard Webhooks signing secret of build status webhooks`,
      encryptionKey: key,
      generateSecretString: { secretStringTemplate: '{}', generateStringKey: 'current', passwordLength: 64, excludePunctuation: true },
    });
    this.webhookSigningSecret = webhookSecret;

    const zipJson = JSON.stringify(s.zipLimits);
    const jobJson = JSON.stringify(s.jobSettings);
    const webhookJson = JSON.stringify(s.webhookSettings);
    const fn = (fid: string, contract: HandlerContract, environment: Record<string, string>, extra: Partial<lambda.FunctionProps> = {}) =>
      new ServiceFunction(this, fid, { contract, environment, logRetention, logEncryptionKey, sourceMaps: props.sourceMaps, ...extra });
    this.createFunction = fn('CreateFunction', H.createBuild, {
      [Env.JOBS_TABLE_NAME]: this.table.tableName,
      [Env.UPLOADS_BUCKET_NAME]: this.uploadsBucket.bucketName,
      [Env.ZIP_LIMITS]: zipJson,
      [Env.JOB_SETTINGS]: jobJson,
      [Env.CONTAINER_BUILD_PROJECT]: containerProject,
    });
    this.readFunction = fn('ReadFunction', H.readBuilds, {
      [Env.JOBS_TABLE_NAME]: this.table.tableName,
      [Env.PAGE_TOKEN_SECRET_ARN]: pageTokenSecret.secretArn,
    });
    this.workerFunction = fn('WorkerFunction', H.worker, {
      [Env.JOBS_TABLE_NAME]: this.table.tableName,
      [Env.UPLOADS_BUCKET_NAME]: this.uploadsBucket.bucketName,
      [Env.ARTIFACTS_BUCKET_NAME]: this.artifactsBucket.bucketName,
      [Env.ZIP_LIMITS]: zipJson,
      [Env.JOB_SETTINGS]: jobJson,
      [Env.CONTAINER_BUILD_PROJECT]: containerProject,
    }, { memorySize: s.workerMemorySize, timeout: s.workerTimeout });
    this.expireFunction = fn('ExpireFunction', H.expireUploads, {
      [Env.JOBS_TABLE_NAME]: this.table.tableName,
      [Env.JOB_SETTINGS]: jobJson,
    }, { timeout: Duration.minutes(2) });
    this.publisherFunction = fn('PublisherFunction', H.publishEvents, { [Env.EVENT_BUS_NAME]: this.eventBus.eventBusName }, { timeout: Duration.seconds(60) });
    // Records of a batch are delivered concurrently: one attempt's time plus margin.
    const webhookTimeout = Duration.seconds(Math.max(30, Math.ceil(s.webhookSettings.timeoutMs / 1000) + 20));
    this.webhookFunction = fn('WebhookFunction', H.deliverWebhooks, {
      [Env.JOBS_TABLE_NAME]: this.table.tableName,
      [Env.WEBHOOK_SECRET_ARN]: webhookSecret.secretArn,
      [Env.WEBHOOK_SETTINGS]: webhookJson,
    }, { timeout: webhookTimeout });
    this.rotationFunction = fn('RotationFunction', H.rotateWebhookSecret, { [Env.WEBHOOK_SETTINGS]: webhookJson }, { timeout: Duration.seconds(30) });
    if (container) {
      this.containerStateFunction = fn('ContainerStateFunction', H.containerBuildFinished, {
        [Env.JOBS_TABLE_NAME]: this.table.tableName,
        [Env.CONTAINER_REPOSITORY_URI]: container.repository.repositoryUri,
      });
    }

    // Queues. The build queue is fed by S3 (ObjectCreated of uploads/*.zip), the webhook
    // queue by a rule on the bus; EventBridge may use the key only through SQS, for queues of this account.
    const queueProps = { alarmTopic: this.alarmTopic, encryptionKey: key };
    const buildQueue = new ReliableQueue(this, 'BuildQueue', {
      ...queueProps,
      consumerTimeout: s.workerTimeout,
      maxReceiveCount: BUILD_WORKER_MAX_RECEIVES,
      maxMessageAge: thresholds.buildQueueMaxMessageAge,
    });
    const webhookQueue = new ReliableQueue(this, 'WebhookQueue', {
      ...queueProps,
      consumerTimeout: webhookTimeout,
      maxReceiveCount: s.webhookSettings.maxAttempts,
      // Retries wait in the queue (up to maxDelay each): the oldest message of a healthy queue is that old.
      maxMessageAge: Duration.millis(Math.min(14 * 86_400_000, s.webhookSettings.maxDelayMs * s.webhookSettings.maxAttempts + 3_600_000)),
    });
    this.buildQueue = buildQueue.queue;
    this.buildDeadLetterQueue = buildQueue.deadLetterQueue;
    this.webhookQueue = webhookQueue.queue;
    this.webhookDeadLetterQueue = webhookQueue.deadLetterQueue;
    const dlqProps = { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: key, enforceSSL: true, retentionPeriod: Duration.days(14) };
    const publisherDlq = new sqs.Queue(this, 'PublisherDeadLetterQueue', dlqProps);
    const invocationDlq = new sqs.Queue(this, 'InvocationDeadLetterQueue', dlqProps);
    this.publisherDeadLetterQueue = publisherDlq;
    this.invocationDeadLetterQueue = invocationDlq;
    // EventBridge requests carry no aws:SourceArn: the queue policies name the rules.
    allowServiceIntoQueues(this, key, 'EventBridgeDeliversIntoThisConstructsQueues', 'events.amazonaws.com');

    // Upload → build queue → worker.
    this.uploadsBucket.addEventNotification(s3.EventType.OBJECT_CREATED, new ScopedQueueDestination(buildQueue.queue, key),
      { prefix: UploadLayout.PREFIX, suffix: '.zip' });
    this.workerFunction.addEventSource(new lambdaEvents.SqsEventSource(buildQueue.queue, { batchSize: 1, reportBatchItemFailures: true }));

    // Stream → publisher → bus.
    this.publisherFunction.addEventSource(new lambdaEvents.DynamoEventSource(this.table, {
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: 100,
      bisectBatchOnError: true,
      retryAttempts: 10,
      maxRecordAge: Duration.hours(6),
      reportBatchItemFailures: true,
      parallelizationFactor: 1, // one batch per shard at a time: a job's events go out in order
      onFailure: new SendOnlyQueueDestination(publisherDlq, key),
      filters: [lambda.FilterCriteria.filter(JOB_STREAM_FILTER as unknown as Record<string, unknown>)],
    }));

    // Bus → webhook queue → deliverer.
    new events.Rule(this, 'WebhookRule', {
      eventBus: this.eventBus,
      description: `${this.node.path}: build events to the webhook delivery queue`,
      eventPattern: { source: [BUILD_EVENT_SOURCE], detailType: Object.values(BuildEvents) },
      targets: [new RuleQueueTarget(webhookQueue)],
    });
    this.webhookFunction.addEventSource(new lambdaEvents.SqsEventSource(webhookQueue.queue, { batchSize: 10, reportBatchItemFailures: true }));

    // Every 5 minutes: jobs whose upload window passed fail (UPLOAD_EXPIRED).
    new events.Rule(this, 'ExpirySchedule', {
      description: `${this.node.path}: expire jobs whose upload never came`,
      schedule: events.Schedule.rate(Duration.minutes(5)),
      targets: [new targets.LambdaFunction(this.expireFunction, {
        retryAttempts: 2, maxEventAge: Duration.minutes(10), deadLetterQueue: invocationDlq,
      })],
    });

    // Container builds: CodeBuild reports state changes on the account's default bus.
    if (container && this.containerStateFunction) {
      new events.Rule(this, 'ContainerBuildStateRule', {
        description: `${this.node.path}: finished container builds`,
        eventPattern: {
          source: ['aws.codebuild'],
          detailType: ['CodeBuild Build State Change'],
          detail: { 'project-name': [container.project.projectName], 'build-status': FINISHED_BUILD_STATUSES },
        },
        targets: [new targets.LambdaFunction(this.containerStateFunction, {
          retryAttempts: 185, maxEventAge: Duration.hours(24), deadLetterQueue: invocationDlq,
        })],
      });
    }

    // The webhook signing secret rotates with the construct's own rotation function.
    this.addWebhookSecretRotation(webhookSecret, s.webhookSecretRotation);
    this.grantLeastPrivilege(key, pageTokenSecret, webhookSecret, container);

    const apiKeyClients = props.apiKeys ?? (s.authorization.identitySource === 'apiKey' ? ['default'] : []);
    const rest = new BuildRestApi(this, 'Rest', {
      createFunction: this.createFunction,
      readFunction: this.readFunction,
      encryptionKey: key,
      throttle: props.throttle ?? { rateLimit: 20, burstLimit: 40 },
      quota: props.quota ?? { limit: 100_000, period: apigw.Period.MONTH },
      logRetention,
      logEncryptionKey,
      authorization: s.authorization,
      apiKeys: apiKeyClients,
    });
    this.api = rest.api;
    this.apiKeys = rest.apiKeys;
    this.apiKeySecrets = rest.apiKeySecrets;
    this.usagePlan = rest.usagePlan;

    this.functions = [
      this.createFunction, this.readFunction, this.workerFunction, this.expireFunction, this.publisherFunction,
      this.webhookFunction, this.rotationFunction, ...(this.containerStateFunction ? [this.containerStateFunction] : []),
    ];
    this.buildsFinished = this.createBuildMetrics();
    this.addAlarms(thresholds, [publisherDlq, invocationDlq]);
    this.dashboard = this.createDashboard(buildQueue, webhookQueue);
    this.alarms = this.node.findAll().filter((c): c is cloudwatch.Alarm => c instanceof cloudwatch.Alarm);
    this.acknowledgeFindings(publisherDlq, invocationDlq);
  }

  /** A rule pattern for this construct's events, e.g. `eventPattern(BuildPipeline.EVENTS.COMPLETED)`; all types when none are given. */
  public eventPattern(...types: BuildEventType[]): events.EventPattern {
    return { source: [BUILD_EVENT_SOURCE], detailType: types.length > 0 ? types : Object.values(BuildEvents) };
  }

  /**
   * Lets `grantee` read jobs and their delivery logs (GetItem, BatchGetItem, Query on the
   * table and its indexes, `kms:Decrypt`). There is no `grantWrite`: jobs change only
   * through the API, the worker and the expiry, so every change is an event.
   */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
      resourceArns: [this.table.tableArn, `${this.table.tableArn}/index/*`],
    });
    this.key.grant(grantee, 'kms:Decrypt');
    return grant;
  }

  /** Lets `grantee` read build artifacts (`s3:GetObject` on `builds/*`, `kms:Decrypt`), e.g. a deployer. */
  public grantReadArtifacts(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({ grantee, actions: ['s3:GetObject'], resourceArns: [this.artifactsBucket.arnForObjects(`${ArtifactLayout.ROOT}/*`)] });
    this.key.grant(grantee, 'kms:Decrypt');
    return grant;
  }

  /** Lets `grantee` read the webhook signing secret (a receiver verifying signatures): `GetSecretValue`, `kms:Decrypt`. */
  public grantReadWebhookSecret(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({ grantee, actions: ['secretsmanager:GetSecretValue'], resourceArns: [this.webhookSigningSecret.secretArn] });
    this.key.grant(grantee, 'kms:Decrypt');
    return grant;
  }

  /**
   * Lets `grantee` call the API (`execute-api:Invoke`), all methods or only the GETs; what
   * {@link ApiAuthorization.iam} callers need.
   */
  public grantInvoke(grantee: iam.IGrantable, options: { readOnly?: boolean } = {}): iam.Grant {
    const stage = this.api.deploymentStage.stageName;
    const methods = options.readOnly ? ['GET'] : ['GET', 'POST'];
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: methods.flatMap((m) => ['/v1.0/builds', '/v1.0/builds/*'].map((path) => this.api.arnForExecuteApi(m, path, stage))),
    });
  }

  /** Errors of all the pipeline's functions, summed. */
  public metricErrors(props?: cloudwatch.MetricOptions): cloudwatch.IMetric {
    const usingMetrics = Object.fromEntries(this.functions.map((f, i) => [`e${i}`, f.metricErrors(props)]));
    return new cloudwatch.MathExpression({ expression: Object.keys(usingMetrics).join(' + '), usingMetrics, label: 'Build handler errors' });
  }

  /** Builds that completed (BuildCompleted events published), per period. */
  public metricBuildsCompleted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.buildsFinished.completed.with({ ...props });
  }

  /** Builds that failed (BuildFailed events published), per period. */
  public metricBuildsFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.buildsFinished.failed.with({ ...props });
  }

  /**
   * The rotation schedule, written out: CDK's `addRotationSchedule` grants the function the
   * key's encrypt and re-encrypt actions and `GetRandomPassword` on `*`, and lets every secret
   * of every account invoke it. Here Secrets Manager may invoke it for this secret only, and
   * the role holds the four rotation actions on this secret.
   */
  private addWebhookSecretRotation(secret: secretsmanager.Secret, every: Duration): void {
    const permission = new lambda.CfnPermission(this, 'RotationInvokePermission', {
      action: 'lambda:InvokeFunction',
      functionName: this.rotationFunction.functionArn,
      principal: 'secretsmanager.amazonaws.com',
      sourceArn: secret.secretArn,
      sourceAccount: Stack.of(this).account,
    });
    const schedule = new secretsmanager.CfnRotationSchedule(this, 'WebhookSecretRotation', {
      secretId: secret.secretArn,
      rotationLambdaArn: this.rotationFunction.functionArn,
      rotationRules: { scheduleExpression: events.Schedule.rate(every).expressionString },
      // The generated first value has no whsec_ prefix: rotate once at deployment.
      rotateImmediatelyOnUpdate: true,
    });
    schedule.node.addDependency(permission);
    const policy = this.rotationFunction.role?.node.tryFindChild('DefaultPolicy');
    if (policy) schedule.node.addDependency(policy);
  }

  /**
   * Each function gets the actions its code calls, on the resources it calls them on (the
   * construct test lists them per role). DynamoDB and Secrets Manager need `kms:Decrypt` from
   * the caller; writing an SSE-KMS object or secret version needs `kms:GenerateDataKey`.
   */
  private grantLeastPrivilege(
    key: kms.IKey, pageTokenSecret: secretsmanager.ISecret, webhookSecret: secretsmanager.ISecret, container?: ContainerBuilds,
  ): void {
    const allow = (grantee: iam.IGrantable, actions: string[], resourceArns: string[], conditions?: Record<string, Record<string, unknown>>) =>
      iam.Grant.addToPrincipal({ grantee, actions, resourceArns, conditions });
    const table = this.table.tableArn;
    const index = (name: string) => `${table}/index/${name}`;
    const { functionIndex, awaitingUploadIndex } = BUILD_JOBS_TABLE_SCHEMA;
    // create: one TransactWriteItems of Puts (job, Idempotency-Key), GetItem on a replay; the
    // presigned POST is signed with this role, so S3 checks PutObject (and the key) against it.
    allow(this.createFunction, ['dynamodb:GetItem', 'dynamodb:PutItem'], [table]);
    allow(this.createFunction, ['s3:PutObject'], [this.uploadsBucket.arnForObjects(`${UploadLayout.PREFIX}*`)]);
    key.grant(this.createFunction, 'kms:Decrypt', 'kms:GenerateDataKey');
    // read: GetItem (a job), Query (its delivery log; a function's builds on the index), the page-token key.
    allow(this.readFunction, ['dynamodb:GetItem', 'dynamodb:Query'], [table]);
    allow(this.readFunction, ['dynamodb:Query'], [index(functionIndex.indexName)]);
    allow(this.readFunction, ['secretsmanager:GetSecretValue'], [pageTokenSecret.secretArn]);
    key.grant(this.readFunction, 'kms:Decrypt');
    // worker: HeadObject/GetObject (ranges) of the upload; PutObject and multipart uploads of
    // the artifacts; the job's transitions; StartBuild of the container project.
    allow(this.workerFunction, ['s3:GetObject'], [this.uploadsBucket.arnForObjects(`${UploadLayout.PREFIX}*`)]);
    allow(this.workerFunction, ['s3:PutObject', 's3:AbortMultipartUpload'], [this.artifactsBucket.arnForObjects(`${ArtifactLayout.ROOT}/*`)]);
    allow(this.workerFunction, ['dynamodb:GetItem', 'dynamodb:UpdateItem'], [table]);
    key.grant(this.workerFunction, 'kms:Decrypt', 'kms:GenerateDataKey');
    if (container) allow(this.workerFunction, ['codebuild:StartBuild'], [container.project.projectArn]);
    // expire: Query the sparse AwaitingUploadIndex, then each job by key.
    allow(this.expireFunction, ['dynamodb:Query'], [index(awaitingUploadIndex.indexName)]);
    allow(this.expireFunction, ['dynamodb:GetItem', 'dynamodb:UpdateItem'], [table]);
    key.grant(this.expireFunction, 'kms:Decrypt');
    // publisher: the stream (added by the event source), PutEvents under this construct's source only.
    allow(this.publisherFunction, ['events:PutEvents'], [this.eventBus.eventBusArn], { StringEquals: { 'events:source': BUILD_EVENT_SOURCE } });
    // deliverer: the job (webhook URL, disabled flag) and its delivery log; the signing secret.
    // ChangeMessageVisibility on its queue comes with the event source.
    allow(this.webhookFunction, ['dynamodb:GetItem', 'dynamodb:UpdateItem'], [table]);
    allow(this.webhookFunction, ['secretsmanager:GetSecretValue'], [webhookSecret.secretArn]);
    key.grant(this.webhookFunction, 'kms:Decrypt');
    // rotation: the four steps of a Secrets Manager rotation, on this secret only.
    allow(this.rotationFunction, [
      'secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage',
    ], [webhookSecret.secretArn]);
    key.grant(this.rotationFunction, 'kms:Decrypt', 'kms:GenerateDataKey');
    if (this.containerStateFunction) {
      allow(this.containerStateFunction, ['dynamodb:GetItem', 'dynamodb:UpdateItem'], [table]);
      key.grant(this.containerStateFunction, 'kms:Decrypt');
    }
  }

  /** BuildCompleted and BuildFailed counted from the publisher's log (one JSON line per published event, field `eventType`). */
  private createBuildMetrics() {
    const logGroup = this.publisherFunction.logGroup;
    const metric = (metricId: string, name: string, eventType: string) => new logs.MetricFilter(this, metricId, {
      logGroup,
      metricNamespace: METRIC_NAMESPACE,
      metricName: `${name}-${Names.uniqueId(this)}`.slice(0, 255),
      filterPattern: logs.FilterPattern.all(
        logs.FilterPattern.stringValue('$.message', '=', BUILD_EVENT_PUBLISHED_LOG_MESSAGE),
        logs.FilterPattern.stringValue('$.eventType', '=', eventType),
      ),
      metricValue: '1',
      // A data point (0) whenever the publisher logs anything: the ratio has both sides.
      defaultValue: 0,
    }).metric({ statistic: 'Sum', period: Duration.minutes(15) });
    return {
      completed: metric('BuildsCompletedFilter', 'BuildsCompleted', BuildEvents.COMPLETED),
      failed: metric('BuildsFailedFilter', 'BuildsFailed', BuildEvents.FAILED),
    };
  }

  private addAlarms(t: ReturnType<typeof resolveAlarmThresholds>, dlqs: sqs.IQueue[]): void {
    const topic = this.alarmTopic;
    for (const f of this.functions) {
      const p95Duration = f === this.workerFunction ? t.workerP95Duration : f === this.webhookFunction ? t.webhookP95Duration : t.functionP95Duration;
      addFunctionAlarms(this, f.node.id, f, topic, { errorRatePercent: t.functionErrorRatePercent, p95Duration });
    }
    for (const dlq of dlqs) addDeadLetterQueueAlarm(this, dlq.node.id, dlq, topic);
    addApi5xxAlarm(this, 'Api', this.api, topic, t.api5xxRatePercent);
    const failureRate = new cloudwatch.MathExpression({
      expression: 'IF(failed + completed >= 5, 100 * failed / (failed + completed), 0)',
      usingMetrics: { failed: this.buildsFinished.failed, completed: this.buildsFinished.completed },
      label: 'Build failure rate (%)',
      period: Duration.minutes(15),
    });
    notify(failureRate.createAlarm(this, 'BuildFailureRateAlarm', {
      alarmDescription: `${this.node.path}: more than ${t.buildFailureRatePercent}% of finished builds failed in 15 minutes (at least 5 builds)`,
      threshold: t.buildFailureRatePercent,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }), topic);
    notify(this.publisherFunction.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(1) }).createAlarm(this, 'PublisherIteratorAgeAlarm', {
      alarmDescription: `${this.publisherFunction.node.path}: jobs stream iterator age above 60 s (build events are late)`,
      threshold: 60_000,
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }), topic);
  }

  private createDashboard(buildQueue: ReliableQueue, webhookQueue: ReliableQueue): cloudwatch.Dashboard {
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard');
    const dlqs = [buildQueue.deadLetterQueue, webhookQueue.deadLetterQueue, this.publisherDeadLetterQueue, this.invocationDeadLetterQueue];
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Builds completed and failed', left: [this.buildsFinished.completed, this.buildsFinished.failed] }),
      new cloudwatch.GraphWidget({ title: 'API requests and errors', left: [this.api.metricCount(), this.api.metricClientError(), this.api.metricServerError()] }),
      new cloudwatch.GraphWidget({
        title: 'Build queue: oldest message age (s) and depth',
        left: [buildQueue.queue.metricApproximateAgeOfOldestMessage()],
        right: [buildQueue.queue.metricApproximateNumberOfMessagesVisible()],
      }),
      new cloudwatch.GraphWidget({
        title: 'Worker duration (p50, p95, max) and errors',
        left: ['p50', 'p95', 'Maximum'].map((statistic) => this.workerFunction.metricDuration({ statistic })),
        right: [this.workerFunction.metricErrors()],
      }),
      new cloudwatch.GraphWidget({
        title: 'Webhook deliveries: invocations, errors (retries), queue depth, DLQ',
        left: [this.webhookFunction.metricInvocations(), this.webhookFunction.metricErrors()],
        right: [webhookQueue.queue, webhookQueue.deadLetterQueue].map((q) => q.metricApproximateNumberOfMessagesVisible()),
      }),
      new cloudwatch.GraphWidget({ title: 'Handler errors', left: this.functions.map((f) => f.metricErrors()) }),
      new cloudwatch.GraphWidget({ title: 'Dead-letter queues', left: dlqs.map((q) => q.metricApproximateNumberOfMessagesVisible()) }),
    );
    return dashboard;
  }

  private acknowledgeFindings(publisherDlq: sqs.Queue, invocationDlq: sqs.Queue): void {
    acknowledgeFindings(publisherDlq, {
      'AwsSolutions-SQS3': 'This queue is itself a dead-letter queue (the jobs stream source\'s on-failure destination); its depth ' +
        'alarm pages on the first message.',
    });
    acknowledgeFindings(invocationDlq, {
      'AwsSolutions-SQS3': 'This queue is itself a dead-letter queue (of the expiry schedule and the container-state rule); its depth ' +
        'alarm pages on the first message.',
    });
    // CDK's bucket-notifications custom resource (one handler per stack) writes the uploads bucket's notification.
    const notifications = this.uploadsBucket.node.tryFindChild('Notifications');
    if (notifications) {
      acknowledgeFindings(notifications, inBothRegulatoryPacks('IAMNoInlinePolicy', 'CDK\'s bucket-notifications handler gets ' +
        's3:PutBucketNotification on this bucket only, as its role\'s own policy; a managed policy would be a separate, attachable object.'));
    }
    const handler = Stack.of(this).node.tryFindChild(BUCKET_NOTIFICATIONS_HANDLER_ID);
    if (handler) {
      acknowledgeFindings(handler, {
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]': 'CDK\'s ' +
          'bucket-notifications handler (it sets a bucket\'s notification configuration at deployment) writes its own logs with the ' +
          'managed policy AWS documents for that.',
      });
    }
    const uploads = nagArn(this.uploadsBucket);
    const artifacts = nagArn(this.artifactsBucket);
    acknowledgeFindings(this.createFunction, {
      [`AwsSolutions-IAM5[Resource::${uploads}/uploads/*]`]: 'The presigned POST of a job puts uploads/<jobId>.zip; the policy itself ' +
        'names the one key, and the role may put under uploads/ of this bucket only.',
    });
    acknowledgeFindings(this.workerFunction, {
      [`AwsSolutions-IAM5[Resource::${uploads}/uploads/*]`]: 'The worker reads the archive of the job it was notified of, under uploads/.',
      [`AwsSolutions-IAM5[Resource::${artifacts}/builds/*]`]: 'The worker writes one job\'s artifacts under builds/<jobId>/: PutObject ' +
        'and multipart uploads on that prefix of this bucket.',
    });
  }
}
