import { Duration, RemovalPolicy, Size } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { ApiAuthorization } from '../core/api-authorization';

/** Thresholds of the alarms a {@link BuildPipeline} creates. */
export interface BuildPipelineAlarmThresholds {
  /**
   * Error rate of each function (errors / invocations over 5 minutes), in percent.
   * @default 5
   */
  readonly functionErrorRatePercent?: number;
  /**
   * p95 duration of the API, publisher, expiry, rotation and container-state functions,
   * 3 periods of 5 minutes in a row.
   * @default Duration.seconds(3)
   */
  readonly functionP95Duration?: Duration;
  /**
   * p95 duration of the build worker (it extracts and stores whole archives).
   * @default Duration.minutes(5)
   */
  readonly workerP95Duration?: Duration;
  /**
   * p95 duration of the webhook deliverer.
   * @default Duration.seconds(15)
   */
  readonly webhookP95Duration?: Duration;
  /**
   * Age of the oldest message in the build queue, 5 minutes in a row (uploads wait for a worker).
   * @default Duration.minutes(15)
   */
  readonly buildQueueMaxMessageAge?: Duration;
  /**
   * Share of finished builds that failed (BuildFailed / (BuildFailed + BuildCompleted) over
   * 15 minutes, at least 5 finished builds), in percent.
   * @default 50
   */
  readonly buildFailureRatePercent?: number;
  /**
   * API 5xx rate (5xx / requests over 5 minutes), in percent.
   * @default 1
   */
  readonly api5xxRatePercent?: number;
}

/** Outbound status webhooks (a job's `webhookUrl`). */
export interface BuildWebhookOptions {
  /**
   * Attempts per event before it goes to the delivery dead-letter queue (the delivery
   * queue's maxReceiveCount), 1 to 100.
   * @default 8
   */
  readonly maxAttempts?: number;
  /**
   * First retry delay (exponential backoff with full jitter), 1 second to 12 hours.
   * @default Duration.seconds(5)
   */
  readonly baseDelay?: Duration;
  /**
   * Longest retry delay, up to 12 hours (SQS's longest visibility timeout).
   * @default Duration.hours(1)
   */
  readonly maxDelay?: Duration;
  /**
   * Time allowed per attempt (connect and response), 1 second to 5 minutes.
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;
  /**
   * After a rotation of the signing secret, the previous secret keeps signing (a second
   * signature) this long, so receivers can switch without a failed delivery. Up to 30 days.
   * @default Duration.hours(24)
   */
  readonly rotationOverlap?: Duration;
}

/** Container builds: archives with a Dockerfile built into images by CodeBuild. */
export interface ContainerBuildsOptions {
  /**
   * CodeBuild timeout of one container build, 5 minutes to 36 hours.
   * @default Duration.hours(1)
   */
  readonly timeout?: Duration;
  /**
   * CodeBuild compute type.
   * @default codebuild.ComputeType.MEDIUM
   */
  readonly computeType?: codebuild.ComputeType;
  /**
   * Images the repository keeps (the newest; older ones expire), 1 to 10,000.
   * @default 500
   */
  readonly maxImageCount?: number;
}

/** Properties of a {@link BuildPipeline}. Every prop is optional. */
export interface BuildPipelineProps {
  /**
   * How callers of the build API prove who they are: API keys (the default), IAM (SigV4),
   * a Cognito user pool, or your own authorizer (a Lambda authorizer checking JWTs, ...).
   * @default ApiAuthorization.apiKey()
   */
  readonly authorization?: ApiAuthorization;
  /**
   * One API key per named client: each gets a key, its value in a secret of its own
   * (`apiKeySecrets[name]`), all on the usage plan, and every method then needs a key.
   * Names: 1-64 of `A-Z a-z 0-9 _ -`.
   * @default ['default'] with API-key authorization, none otherwise
   */
  readonly apiKeys?: string[];
  /**
   * Stage and usage-plan throttling.
   * @default { rateLimit: 20, burstLimit: 40 }
   */
  readonly throttle?: apigw.ThrottleSettings;
  /**
   * Request quota of the usage plan.
   * @default { limit: 100_000, period: apigw.Period.MONTH }
   */
  readonly quota?: apigw.QuotaSettings;
  /**
   * The bus build events are published to. A bus you pass is yours: no archive is put on it.
   * @default - a bus is created (`eventBus`), with an archive of its build events
   */
  readonly eventBus?: events.IEventBus;
  /**
   * How long the archive on the created bus keeps build events (1 to 3,650 days). Ignored
   * when you pass `eventBus`.
   * @default Duration.days(30)
   */
  readonly archiveRetention?: Duration;
  /**
   * Largest upload (the ZIP itself), enforced by the presigned POST policy and again by the
   * worker. 1 byte to 5 GiB.
   * @default Size.mebibytes(50)
   */
  readonly maxUploadSize?: Size;
  /**
   * Most entries (files and folders) in an archive, 1 to 1,000,000.
   * @default 10_000
   */
  readonly maxEntries?: number;
  /**
   * Most bytes an archive may inflate to, counted while inflating.
   * @default Size.mebibytes(250)
   */
  readonly maxUncompressedSize?: Size;
  /**
   * Highest inflated / compressed ratio of one entry (after its first MiB), 1 to 1,000,000.
   * @default 200
   */
  readonly maxCompressionRatio?: number;
  /**
   * How long a presigned upload is valid; a job without an upload fails (UPLOAD_EXPIRED)
   * after it. 1 minute to 7 days.
   * @default Duration.minutes(15)
   */
  readonly uploadWindow?: Duration;
  /**
   * Jobs (and their delivery logs) are deleted by TTL this long after creation, 1 to 3,650 days.
   * @default Duration.days(30)
   */
  readonly jobRetention?: Duration;
  /**
   * Artifacts under `builds/` expire this long after they were written, 1 to 3,650 days.
   * @default Duration.days(90)
   */
  readonly artifactRetention?: Duration;
  /**
   * How long an `Idempotency-Key` of a create replays its job, 1 minute to 365 days.
   * @default Duration.hours(24)
   */
  readonly idempotencyKeyWindow?: Duration;
  /**
   * Outbound status webhooks.
   * @default - see {@link BuildWebhookOptions}
   */
  readonly webhook?: BuildWebhookOptions;
  /**
   * How often the webhook signing secret rotates (4 hours to 1,000 days); the previous
   * secret keeps signing for `webhook.rotationOverlap`, which must be shorter.
   * @default Duration.days(30)
   */
  readonly webhookSecretRotation?: Duration;
  /**
   * Container builds (runtime `container`): an ECR repository, a CodeBuild project and the
   * rule that completes jobs from CodeBuild's state changes. `true` for the defaults.
   * @default false (creates refuse `runtime: container` with 422)
   */
  readonly containerBuilds?: ContainerBuildsOptions | boolean;
  /**
   * Memory of the build worker, MB (128 to 10,240); CPU grows with it.
   * @default 2048
   */
  readonly workerMemorySize?: number;
  /**
   * Timeout of the build worker, 1 to 15 minutes; it must stay below the job lease (16 minutes).
   * @default Duration.minutes(15)
   */
  readonly workerTimeout?: Duration;
  /**
   * Where every alarm of the construct goes. A topic you pass is yours: its policy must let
   * `cloudwatch.amazonaws.com` publish, and its key (if any) let CloudWatch use it.
   * @default - an encrypted topic that CloudWatch may publish to is created (`alarmTopic`)
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Alarm thresholds.
   * @default - see {@link BuildPipelineAlarmThresholds}
   */
  readonly alarmThresholds?: BuildPipelineAlarmThresholds;
  /**
   * What happens to the jobs table, the buckets and the container repository when they leave the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Key for the jobs table, the buckets, the queues, the secrets and the container images.
   * @default - a customer-managed key with rotation is created
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Retention of function, CodeBuild and API access logs.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Customer-managed key for the log groups; its policy gets the statement CloudWatch Logs needs.
   * @default - CloudWatch Logs' own encryption (the logs hold ids and outcomes, not archives)
   */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * Sidecar source maps and `--enable-source-maps` (~20–25 ms per cold start).
   * @default false
   */
  readonly sourceMaps?: boolean;
}
