import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { ApiAuthorization } from '../core/api-authorization';

/**
 * Where deployable builds come from: a bus carrying BuildPipeline's `BuildCompleted` events and
 * the bucket holding their artifacts. A `BuildPipeline` is one (pass it as it is).
 */
export interface IBuildSource {
  /** The bus `BuildCompleted` (source `cdk-event-services.build-pipeline`) is published on. */
  readonly eventBus: events.IEventBus;
  /** The bucket the events' `artifact.bucket` names. */
  readonly artifactsBucket: s3.IBucket;
  /** Lets the deployer read build artifacts (Lambda reads the code with the caller's permissions). */
  grantReadArtifacts(grantee: iam.IGrantable): iam.Grant;
}

/** A JWT authorizer on the platform API: tokens of `issuer` for one of `audience`. */
export interface RuntimeJwtAuthorization {
  /**
   * The issuer (`iss`), https. Its keys are read from `{issuer}/.well-known/openid-configuration`
   * (`jwks_uri`), e.g. `https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc`.
   */
  readonly issuer: string;
  /** Accepted audiences (`aud`): a token must name at least one. */
  readonly audience: string[];
  /**
   * How long API Gateway caches a token's policy (0 turns the cache off), up to 1 hour.
   * @default Duration.minutes(5)
   */
  readonly resultsCacheTtl?: Duration;
}

/** What a registration may ask for; each is enforced by the registry API with a 400. */
export interface RuntimeFunctionLimits {
  /**
   * Largest `memoryMb` a function may register, 128 to 10,240.
   * @default 1024
   */
  readonly maxMemoryMb?: number;
  /**
   * Longest `timeoutSeconds`, 1 second to 15 minutes (synchronous calls through the API give up at 29 s).
   * @default Duration.seconds(60)
   */
  readonly maxTimeout?: Duration;
  /**
   * Highest `rateLimit.requestsPerSecond` of a function.
   * @default 100
   */
  readonly maxRequestsPerSecond?: number;
  /**
   * Highest `rateLimit.burst` of a function.
   * @default 200
   */
  readonly maxBurst?: number;
  /**
   * Most schedules per function, 0 to 100.
   * @default 5
   */
  readonly maxSchedules?: number;
  /**
   * Highest reserved concurrency a function may ask for (every function gets some, so one
   * function cannot take the account's whole pool), 1 to 1,000.
   * @default 10
   */
  readonly maxReservedConcurrency?: number;
}

/** Delivery of async results to a call's `callbackUrl`. */
export interface RuntimeCallbackOptions {
  /**
   * Attempts per callback before the result goes to the results dead-letter queue, 1 to 100.
   * @default 8
   */
  readonly maxAttempts?: number;
  /**
   * First retry delay (exponential backoff, full jitter), 1 second to 12 hours.
   * @default Duration.seconds(1)
   */
  readonly baseDelay?: Duration;
  /**
   * Longest retry delay, up to 12 hours.
   * @default Duration.hours(1)
   */
  readonly maxDelay?: Duration;
  /**
   * Time allowed per attempt, 1 second to 5 minutes.
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;
}

/** Thresholds of the alarms a {@link LambdaRuntimeService} creates. */
export interface LambdaRuntimeAlarmThresholds {
  /**
   * Error rate of each of the service's own functions (errors / invocations over 5 minutes), percent.
   * @default 5
   */
  readonly functionErrorRatePercent?: number;
  /**
   * p95 duration of the service's own functions, 3 periods of 5 minutes in a row.
   * @default Duration.seconds(10)
   */
  readonly functionP95Duration?: Duration;
  /**
   * Error rate of platform functions called through the API (function errors / invocations
   * over 5 minutes, all functions together), percent.
   * @default 10
   */
  readonly platformErrorRatePercent?: number;
  /**
   * Calls refused by rate limits (429s) in 5 minutes, all functions together.
   * @default 100
   */
  readonly throttledCalls?: number;
  /**
   * API 5xx rate (5xx / requests over 5 minutes), percent.
   * @default 1
   */
  readonly api5xxRatePercent?: number;
}

/** Properties of a {@link LambdaRuntimeService}. */
export interface LambdaRuntimeServiceProps {
  /**
   * The platform's namespace: function `orders` runs as the AWS Lambda function
   * `{functionPrefix}-orders`, and the deployer may create, change and pass its role only to
   * functions named `{functionPrefix}-*`. A letter, then letters, digits or `-`, at most 23.
   * Choose prefixes that do not start one another (`app` and `app-x`) in one account.
   */
  readonly functionPrefix: string;
  /** Where builds come from: a `BuildPipeline`, or any bus and bucket carrying its events. */
  readonly builds: IBuildSource;
  /**
   * How callers of the platform API prove who they are: API keys (the default), IAM, Cognito
   * or your own authorizer. Use `jwt` for the built-in JWT authorizer instead.
   * @default ApiAuthorization.apiKey(), unless `jwt` is given
   */
  readonly authorization?: ApiAuthorization;
  /**
   * A JWT authorizer (issuer and audiences) created by the construct. Not with `authorization`.
   * @default - none
   */
  readonly jwt?: RuntimeJwtAuthorization;
  /**
   * One API key per named client (API-key authorization). Names: 1-64 of `A-Z a-z 0-9 _ -`.
   * @default ['default'] with API-key authorization, none otherwise
   */
  readonly apiKeys?: string[];
  /**
   * Stage and usage-plan throttling (all routes; each function also has its own rate limit).
   * @default { rateLimit: 100, burstLimit: 200 }
   */
  readonly throttle?: apigw.ThrottleSettings;
  /**
   * Request quota of the usage plan.
   * @default { limit: 1_000_000, period: apigw.Period.MONTH }
   */
  readonly quota?: apigw.QuotaSettings;
  /** Limits of what a registration may ask for. */
  readonly limits?: RuntimeFunctionLimits;
  /**
   * AWS permissions of platform functions (the user code): added to their one execution role
   * and to its permissions boundary. Without it they can write their logs and report async
   * results, nothing else.
   * @default - none
   */
  readonly platformFunctionPolicy?: iam.PolicyStatement[];
  /**
   * How long a container of the invoke function serves a function's registry entry before
   * reading it again (an update or delete in another container is seen within this time), 0 to 5 minutes.
   * @default Duration.seconds(10)
   */
  readonly metadataCacheTtl?: Duration;
  /**
   * How long invocation audit records are kept (TTL), 1 to 365 days.
   * @default Duration.days(30)
   */
  readonly auditRetention?: Duration;
  /**
   * Attempts EventBridge Scheduler makes per scheduled call before it goes to the schedule
   * dead-letter queue, 0 to 185.
   * @default 3
   */
  readonly scheduleRetryAttempts?: number;
  /**
   * Age after which Scheduler stops retrying a scheduled call, 1 minute to 24 hours.
   * @default Duration.hours(1)
   */
  readonly scheduleMaxEventAge?: Duration;
  /** Delivery of async results to callback URLs. */
  readonly callbacks?: RuntimeCallbackOptions;
  /**
   * Alarm thresholds.
   * @default - see each field
   */
  readonly alarmThresholds?: LambdaRuntimeAlarmThresholds;
  /**
   * Where alarms go. Its policy must let CloudWatch publish (an `AlarmTopic` does).
   * @default - a topic is created
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Key of the tables, queues, topic and secrets.
   * @default - a key is created (rotation on)
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * What happens to the registry and audit tables when the construct is removed.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Retention of the service's own log groups.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Key of the service's own log groups.
   * @default - CloudWatch Logs' own encryption
   */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * Source maps in the handler bundles (readable stack traces, larger bundles).
   * @default false
   */
  readonly sourceMaps?: boolean;
}
