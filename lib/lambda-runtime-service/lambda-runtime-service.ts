import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
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
  CONSUMED_BUILD_EVENT, LambdaRuntimeEnv as Env, LambdaRuntimeHandlers as H, PLATFORM_TAG_KEY, REGISTRY_TABLE_SCHEMA,
} from './contract';
import type { LambdaRuntimeServiceProps } from './lambda-runtime-service-props';
import { PlatformResources } from './platform-resources';
import { RuntimeAlarms } from './runtime-alarms';
import { grantRuntimeLeastPrivilege } from './runtime-permissions';
import { RuntimeRestApi } from './runtime-rest-api';
import { resolveRuntimeAlarmThresholds, resolveRuntimeSettings } from './runtime-settings';
import { createAuditTable, createRegistryTable } from './runtime-tables';
import {
  acknowledgeFindings, allowServiceIntoQueues, createPageTokenSecret, createServiceKey, type HandlerContract, ReliableQueue, resolveAlarmTopic,
  ServiceFunction,
} from '../core';
import { ApiAuthorization } from '../core/api-authorization';
import { RuleQueueTarget } from '../core/rule-queue-target';
import { SendOnlyQueueDestination } from '../core/send-only-queue-destination';

/** The registry stream records the sync sees: function configurations (META), never rate buckets or TTL removals of tombstones. */
export const REGISTRY_STREAM_FILTER = {
  eventName: ['INSERT', 'MODIFY'],
  dynamodb: { Keys: { [REGISTRY_TABLE_SCHEMA.sortKey]: { S: ['META'] } } },
} as const;

/** Receives of one BuildCompleted before it goes to the deploy DLQ. */
const DEPLOY_MAX_RECEIVES = 5;

/**
 * A function platform: a registry of functions (`/v1.0/functions`), each deployed from
 * BuildPipeline's builds to an AWS Lambda function `{functionPrefix}-{name}` (a published
 * version behind the `live` alias, all at once or as a canary rolled back on errors), invoked
 * through the API with a per-function rate limit (sync, or async with an optional signed
 * callback), run on its schedules by EventBridge Scheduler, and audited per invocation.
 */
export class LambdaRuntimeService extends Construct {
  /** Function registry: configurations, deployment state, rate buckets. Read it with {@link grantRead}. */
  public readonly table: dynamodb.Table;
  /** Invocation audit (TTL'd). */
  public readonly auditTable: dynamodb.Table;
  public readonly api: apigw.RestApi;
  /** Each client's API key, by client name (API-key authorization). */
  public readonly apiKeys: Readonly<Record<string, apigw.IApiKey>>;
  /** Each client's API key value, by client name. */
  public readonly apiKeySecrets: Readonly<Record<string, secretsmanager.ISecret>>;
  public readonly usagePlan: apigw.UsagePlan;
  /** The platform prefix of AWS function names. */
  public readonly functionPrefix: string;
  /** The one execution role of platform functions (its permissions boundary is {@link platformFunctionPolicy}). */
  public readonly platformExecutionRole: iam.IRole;
  /** The platform functions' permissions and permissions boundary. */
  public readonly platformFunctionPolicy: iam.IManagedPolicy;
  /** BuildCompleted events to deploy (from a rule on the builds bus). */
  public readonly deployQueue: sqs.IQueue;
  public readonly deployDeadLetterQueue: sqs.IQueue;
  /** Async invocation records (Lambda destinations) to complete and call back. */
  public readonly resultsQueue: sqs.IQueue;
  public readonly resultsDeadLetterQueue: sqs.IQueue;
  /** Failed async invocations (Lambda's on-failure destination, through a topic). */
  public readonly asyncDeadLetterQueue: sqs.IQueue;
  /** Scheduled calls EventBridge Scheduler could not deliver. */
  public readonly scheduleDeadLetterQueue: sqs.IQueue;
  /** The Scheduler group of every platform schedule (named by the prefix). */
  public readonly scheduleGroupName: string;
  /** Signs async result callbacks (Standard Webhooks): give its value to callback receivers. */
  public readonly callbackSigningSecret: secretsmanager.ISecret;
  public readonly registryFunction: lambda.Function;
  public readonly rollbackFunction: lambda.Function;
  public readonly invokeFunction: lambda.Function;
  public readonly invocationsFunction: lambda.Function;
  public readonly deployFunction: lambda.Function;
  public readonly canaryFunction: lambda.Function;
  public readonly syncFunction: lambda.Function;
  public readonly resultsFunction: lambda.Function;
  /** The JWT authorizer (with `jwt`). */
  public readonly jwtAuthorizerFunction?: lambda.Function;
  public readonly alarmTopic: sns.ITopic;
  public readonly alarms: cloudwatch.IAlarm[];
  public readonly dashboard: cloudwatch.Dashboard;

  private readonly key: kms.IKey;
  private readonly functions: lambda.Function[];

  constructor(scope: Construct, id: string, props: LambdaRuntimeServiceProps) {
    super(scope, id);
    // A rule → queue target's policy names the rule, whatever the user's cdk.json says.
    this.node.setContext('@aws-cdk/aws-events:eventsTargetQueueSameAccount', true);
    const s = resolveRuntimeSettings(this, props);
    const thresholds = resolveRuntimeAlarmThresholds(this, props.alarmThresholds ?? {});
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;
    const key: kms.IKey = props.encryptionKey ?? createServiceKey(this, 'Key', 'function registry, invocation audit, queues and secrets at rest');
    this.key = key;
    this.functionPrefix = s.prefix;
    this.alarmTopic = resolveAlarmTopic(this, props.alarmTopic);

    this.table = createRegistryTable(this, key, removalPolicy);
    this.auditTable = createAuditTable(this, key, removalPolicy);
    const pageTokenSecret = createPageTokenSecret(this, key, "function and invocation lists'", 'LambdaRuntimeService');
    // A plain value: the callback signer reads a value without `whsec_` as the base64 of the key.
    const callbackSecret = new secretsmanager.Secret(this, 'CallbackSigningSecret', {
      description: `${this.node.path}: Standard Webhooks signing secret of async result callbacks`,
      encryptionKey: key,
      generateSecretString: { secretStringTemplate: '{}', generateStringKey: 'current', passwordLength: 64, excludePunctuation: true },
    });
    acknowledgeFindings(callbackSecret, Object.fromEntries(['AwsSolutions-SMG4', 'NIST.800.53.R5-SecretsManagerRotationEnabled'].map((rule) => [rule,
      'Receivers verify with this value; rotate it by writing `{current, previous, previousUntil}` (both secrets sign until ' +
      '`previousUntil`, README, LambdaRuntimeService). An automatic rotation would need every receiver to follow it.'])));
    this.callbackSigningSecret = callbackSecret;

    const fn = (fid: string, contract: HandlerContract, environment: Record<string, string>, extra: Partial<lambda.FunctionProps> = {}) =>
      new ServiceFunction(this, fid, {
        contract, environment, logRetention, logEncryptionKey: props.logEncryptionKey, sourceMaps: props.sourceMaps, ...extra,
      });
    const limitsJson = JSON.stringify(s.limits);
    const runtimeJson = JSON.stringify(s.runtime);
    const registry = { [Env.REGISTRY_TABLE_NAME]: this.table.tableName };
    const resultsTimeout = Duration.seconds(Math.max(30, Math.ceil(s.callbacks.timeoutMs / 1000) + 20));
    const platform = new PlatformResources(this, 'Platform', {
      prefix: s.prefix,
      key,
      alarmTopic: this.alarmTopic,
      resultsConsumerTimeout: resultsTimeout,
      resultsMaxReceiveCount: s.callbacks.maxAttempts,
      resultsMaxDelay: Duration.millis(s.callbacks.maxDelayMs),
      platformFunctionPolicy: props.platformFunctionPolicy ?? [],
    });
    this.platformExecutionRole = platform.executionRole;
    this.platformFunctionPolicy = platform.permissionsBoundary;
    this.resultsQueue = platform.resultsQueue.queue;
    this.resultsDeadLetterQueue = platform.resultsQueue.deadLetterQueue;
    this.asyncDeadLetterQueue = platform.asyncDeadLetterQueue;
    this.scheduleDeadLetterQueue = platform.scheduleDeadLetterQueue;
    this.scheduleGroupName = s.prefix;

    const queueProps = { alarmTopic: this.alarmTopic, encryptionKey: key };
    const deployTimeout = Duration.minutes(2);
    const deployQueue = new ReliableQueue(this, 'DeployQueue', { ...queueProps, consumerTimeout: deployTimeout, maxReceiveCount: DEPLOY_MAX_RECEIVES });
    // Checks wait in the queue up to 15 minutes (SQS's longest delay) before they are due.
    const canaryQueue = new ReliableQueue(this, 'CanaryQueue', { ...queueProps, consumerTimeout: Duration.seconds(30), maxMessageAge: Duration.minutes(30) });
    this.deployQueue = deployQueue.queue;
    this.deployDeadLetterQueue = deployQueue.deadLetterQueue;
    allowServiceIntoQueues(this, key, 'EventBridgeDeliversIntoThisConstructsQueues', 'events.amazonaws.com');

    this.registryFunction = fn('RegistryFunction', H.registryApi, {
      ...registry, [Env.FUNCTION_LIMITS]: limitsJson, [Env.PAGE_TOKEN_SECRET_ARN]: pageTokenSecret.secretArn,
    });
    this.rollbackFunction = fn('RollbackFunction', H.rollback, { ...registry, [Env.FUNCTION_LIMITS]: limitsJson, [Env.FUNCTION_PREFIX]: s.prefix });
    // API Gateway gives up at 29 s: the function must not outlive the call it serves.
    this.invokeFunction = fn('InvokeFunction', H.invoke, {
      ...registry,
      [Env.AUDIT_TABLE_NAME]: this.auditTable.tableName,
      [Env.FUNCTION_PREFIX]: s.prefix,
      [Env.FUNCTION_LIMITS]: limitsJson,
      [Env.RUNTIME_SETTINGS]: runtimeJson,
    }, { timeout: Duration.seconds(29), memorySize: 1024 });
    this.invocationsFunction = fn('InvocationsFunction', H.readInvocations, {
      [Env.AUDIT_TABLE_NAME]: this.auditTable.tableName, [Env.PAGE_TOKEN_SECRET_ARN]: pageTokenSecret.secretArn, [Env.RUNTIME_SETTINGS]: runtimeJson,
    });
    const tags = JSON.stringify({ [PLATFORM_TAG_KEY]: s.prefix });
    this.deployFunction = fn('DeployFunction', H.deployBuilds, {
      ...registry,
      [Env.FUNCTION_PREFIX]: s.prefix,
      [Env.FUNCTION_LIMITS]: limitsJson,
      [Env.EXECUTION_ROLE_ARN]: platform.executionRole.roleArn,
      [Env.FUNCTION_TAGS]: tags,
      [Env.ASYNC_SUCCESS_DESTINATION_ARN]: platform.resultsQueue.queue.queueArn,
      [Env.ASYNC_FAILURE_DESTINATION_ARN]: platform.failureTopic.topicArn,
      [Env.CANARY_QUEUE_URL]: canaryQueue.queue.queueUrl,
    }, { timeout: deployTimeout });
    this.canaryFunction = fn('CanaryFunction', H.checkCanaries, {
      ...registry,
      [Env.AUDIT_TABLE_NAME]: this.auditTable.tableName,
      [Env.FUNCTION_PREFIX]: s.prefix,
      [Env.FUNCTION_LIMITS]: limitsJson,
      [Env.CANARY_QUEUE_URL]: canaryQueue.queue.queueUrl,
    }, { timeout: Duration.seconds(30) });
    this.syncFunction = fn('SyncFunction', H.syncRegistry, {
      ...registry,
      [Env.FUNCTION_PREFIX]: s.prefix,
      [Env.FUNCTION_LIMITS]: limitsJson,
      [Env.FUNCTION_ARN_BASE]: platform.functionArnBase,
      [Env.RUNTIME_SETTINGS]: runtimeJson,
      [Env.SCHEDULE_GROUP_NAME]: s.prefix,
      [Env.SCHEDULER_ROLE_ARN]: platform.schedulerRole.roleArn,
      [Env.SCHEDULE_DLQ_ARN]: platform.scheduleDeadLetterQueue.queueArn,
      [Env.SCHEDULE_SETTINGS]: JSON.stringify(s.schedules),
    }, { timeout: Duration.seconds(60) });
    this.resultsFunction = fn('ResultsFunction', H.completeInvocations, {
      [Env.AUDIT_TABLE_NAME]: this.auditTable.tableName,
      [Env.FUNCTION_PREFIX]: s.prefix,
      [Env.RUNTIME_SETTINGS]: runtimeJson,
      [Env.CALLBACK_SECRET_ARN]: callbackSecret.secretArn,
      [Env.CALLBACK_SETTINGS]: JSON.stringify(s.callbacks),
    }, { timeout: resultsTimeout });
    if (props.jwt) {
      this.jwtAuthorizerFunction = fn('JwtAuthorizerFunction', H.jwtAuthorizer, {
        [Env.JWT_ISSUER]: props.jwt.issuer, [Env.JWT_AUDIENCE]: JSON.stringify(props.jwt.audience),
      }, { timeout: Duration.seconds(10) });
    }
    const syncDlq = new sqs.Queue(this, 'SyncDeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: key, enforceSSL: true, retentionPeriod: Duration.days(14),
    });

    // Builds bus → deploy queue → deployer.
    new events.Rule(this, 'DeployRule', {
      eventBus: props.builds.eventBus,
      description: `${this.node.path}: completed builds to deploy`,
      eventPattern: { source: [CONSUMED_BUILD_EVENT.source], detailType: [CONSUMED_BUILD_EVENT.detailType] },
      targets: [new RuleQueueTarget(deployQueue)],
    });
    this.deployFunction.addEventSource(new lambdaEvents.SqsEventSource(deployQueue.queue, { batchSize: 1, reportBatchItemFailures: true }));
    this.canaryFunction.addEventSource(new lambdaEvents.SqsEventSource(canaryQueue.queue, { batchSize: 10, reportBatchItemFailures: true }));
    const resultsSource = new lambdaEvents.SqsEventSource(platform.resultsQueue.queue, { batchSize: 10, reportBatchItemFailures: true });
    this.resultsFunction.addEventSource(resultsSource);
    // Registry stream → schedules and purges; per shard in order, so a function's changes apply in order.
    this.syncFunction.addEventSource(new lambdaEvents.DynamoEventSource(this.table, {
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: 25,
      bisectBatchOnError: true,
      retryAttempts: 10,
      maxRecordAge: Duration.hours(6),
      reportBatchItemFailures: true,
      parallelizationFactor: 1,
      onFailure: new SendOnlyQueueDestination(syncDlq, key),
      filters: [lambda.FilterCriteria.filter(REGISTRY_STREAM_FILTER as unknown as Record<string, unknown>)],
    }));

    grantRuntimeLeastPrivilege(this, {
      key, platform, builds: props.builds, pageTokenSecret, callbackSecret, canaryQueue: canaryQueue.queue,
    });

    const authorization = s.authorization ?? ApiAuthorization.authorizer(new apigw.TokenAuthorizer(this, 'JwtAuthorizer', {
      handler: this.jwtAuthorizerFunction!,
      resultsCacheTtl: props.jwt?.resultsCacheTtl ?? Duration.minutes(5),
      // A bearer token, nothing else: API Gateway answers 401 before the authorizer runs otherwise.
      validationRegex: '^Bearer [A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$',
    }));
    const apiKeyClients = props.apiKeys ?? (authorization.identitySource === 'apiKey' ? ['default'] : []);
    const rest = new RuntimeRestApi(this, 'Rest', {
      registryFunction: this.registryFunction,
      rollbackFunction: this.rollbackFunction,
      invokeFunction: this.invokeFunction,
      invocationsFunction: this.invocationsFunction,
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
    this.usagePlan = rest.usagePlan;

    this.functions = [
      this.registryFunction, this.rollbackFunction, this.invokeFunction, this.invocationsFunction, this.deployFunction,
      this.canaryFunction, this.syncFunction, this.resultsFunction, ...(this.jwtAuthorizerFunction ? [this.jwtAuthorizerFunction] : []),
    ];
    const alarms = new RuntimeAlarms(this, 'Monitoring', {
      thresholds,
      topic: this.alarmTopic,
      functions: this.functions,
      api: this.api,
      invokeFunction: this.invokeFunction,
      syncFunction: this.syncFunction,
      deadLetterQueues: [syncDlq, platform.asyncDeadLetterQueue, platform.scheduleDeadLetterQueue],
      queues: { deploy: deployQueue, canary: canaryQueue, results: platform.resultsQueue },
    });
    this.dashboard = alarms.dashboard;
    this.alarms = this.node.findAll().filter((c): c is cloudwatch.Alarm => c instanceof cloudwatch.Alarm);
    acknowledgeFindings(syncDlq, {
      'AwsSolutions-SQS3': 'This queue is itself a dead-letter queue (the registry stream source\'s on-failure destination); its depth alarm pages on the first message.',
    });
    for (const dlq of [platform.asyncDeadLetterQueue, platform.scheduleDeadLetterQueue]) {
      acknowledgeFindings(dlq, { 'AwsSolutions-SQS3': 'This queue is itself a dead-letter queue (of async invocations or schedules); its depth alarm pages on the first message.' });
    }
  }

  /** The AWS Lambda function name of a registered function: `{functionPrefix}-{name}`. */
  public awsFunctionName(name: string): string {
    return `${this.functionPrefix}-${name}`;
  }

  /**
   * Lets `grantee` read the registry and the audit (GetItem, Query on the tables and their
   * indexes, `kms:Decrypt`). There is no `grantWrite`: functions change only through the API
   * and the deployer, so schedules and AWS functions follow every change.
   */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    const tables = [this.table.tableArn, this.auditTable.tableArn];
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
      resourceArns: [...tables, ...tables.map((t) => `${t}/index/*`)],
    });
    this.key.grant(grantee, 'kms:Decrypt');
    return grant;
  }

  /** Lets `grantee` read the callback signing secret (a receiver verifying signatures): `GetSecretValue`, `kms:Decrypt`. */
  public grantReadCallbackSecret(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({ grantee, actions: ['secretsmanager:GetSecretValue'], resourceArns: [this.callbackSigningSecret.secretArn] });
    this.key.grant(grantee, 'kms:Decrypt');
    return grant;
  }

  /**
   * Lets `grantee` call the API (`execute-api:Invoke`): everything, or only the GETs; what
   * {@link ApiAuthorization.iam} callers need.
   */
  public grantInvoke(grantee: iam.IGrantable, options: { readOnly?: boolean } = {}): iam.Grant {
    const stage = this.api.deploymentStage.stageName;
    const methods = options.readOnly ? ['GET'] : ['GET', 'POST', 'PATCH', 'DELETE'];
    const paths = ['/v1.0/functions', '/v1.0/functions/*', '/v1.0/invocations/*'];
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: methods.flatMap((m) => paths.map((path) => this.api.arnForExecuteApi(m, path, stage))),
    });
  }

  /** Errors of all the service's own functions, summed (not the platform functions'). */
  public metricErrors(props?: cloudwatch.MetricOptions): cloudwatch.IMetric {
    const usingMetrics = Object.fromEntries(this.functions.map((f, i) => [`e${i}`, f.metricErrors(props)]));
    return new cloudwatch.MathExpression({ expression: Object.keys(usingMetrics).join(' + '), usingMetrics, label: 'Platform handler errors' });
  }

  /** The stack's region-qualified ARN of a platform function's `live` alias. */
  public liveAliasArn(name: string): string {
    const stack = Stack.of(this);
    return `arn:${stack.partition}:lambda:${stack.region}:${stack.account}:function:${this.awsFunctionName(name)}:live`;
  }
}
