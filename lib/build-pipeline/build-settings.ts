import { Duration, Size } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import { Construct } from 'constructs';
import type { BuildPipelineAlarmThresholds, BuildPipelineProps, ContainerBuildsOptions } from './build-pipeline-props';
import {
  DEFAULT_BUILD_JOB_SETTINGS, DEFAULT_WEBHOOK_SETTINGS, DEFAULT_ZIP_LIMITS, type BuildJobSettings, type WebhookSettings, type ZipLimits,
} from './contract';
import { ApiAuthorization } from '../core/api-authorization';
import { checkDuration, checkInteger, checkNumber, propError } from '../core/prop-checks';

/** The props checked (a ValidationError names the first bad one) and turned into the handlers' settings. */
export function resolveBuildSettings(scope: Construct, props: BuildPipelineProps) {
  const w = props.webhook ?? {};
  const seconds = (d: Duration | undefined, fallback: number) => (d ? d.toSeconds() : fallback);
  const ms = (d: Duration | undefined, fallback: number) => (d ? d.toMilliseconds() : fallback);
  const bytes = (sz: Size | undefined, fallback: number) => (sz ? sz.toBytes() : fallback);
  checkDuration(scope, 'uploadWindow', props.uploadWindow, Duration.minutes(1), Duration.days(7));
  checkDuration(scope, 'jobRetention', props.jobRetention, Duration.days(1), Duration.days(3650));
  checkDuration(scope, 'artifactRetention', props.artifactRetention, Duration.days(1), Duration.days(3650));
  checkDuration(scope, 'idempotencyKeyWindow', props.idempotencyKeyWindow, Duration.minutes(1), Duration.days(365));
  checkDuration(scope, 'archiveRetention', props.archiveRetention, Duration.days(1), Duration.days(3650));
  checkDuration(scope, 'webhookSecretRotation', props.webhookSecretRotation, Duration.hours(4), Duration.days(1000));
  checkDuration(scope, 'workerTimeout', props.workerTimeout, Duration.minutes(1), Duration.minutes(15));
  checkInteger(scope, 'workerMemorySize', props.workerMemorySize, 128, 10_240);
  checkInteger(scope, 'maxEntries', props.maxEntries, 1, 1_000_000);
  checkNumber(scope, 'maxCompressionRatio', props.maxCompressionRatio, 1, 1_000_000);
  checkInteger(scope, 'webhook.maxAttempts', w.maxAttempts, 1, 100);
  checkDuration(scope, 'webhook.baseDelay', w.baseDelay, Duration.seconds(1), Duration.hours(12));
  checkDuration(scope, 'webhook.maxDelay', w.maxDelay, Duration.seconds(1), Duration.hours(12));
  checkDuration(scope, 'webhook.timeout', w.timeout, Duration.seconds(1), Duration.minutes(5));
  checkDuration(scope, 'webhook.rotationOverlap', w.rotationOverlap, Duration.seconds(0), Duration.days(30));
  const sizeInRange = (name: string, sz: Size | undefined, max: number) => {
    if (sz === undefined || sz.isUnresolved()) return;
    const b = sz.toBytes();
    if (!Number.isInteger(b) || b < 1 || b > max) throw propError(scope, name, `must be from 1 byte to ${max} bytes, got ${b}`);
  };
  sizeInRange('maxUploadSize', props.maxUploadSize, 5 * 1024 ** 3);
  sizeInRange('maxUncompressedSize', props.maxUncompressedSize, Number.MAX_SAFE_INTEGER);

  const zipLimits: ZipLimits = {
    ...DEFAULT_ZIP_LIMITS,
    maxUploadBytes: bytes(props.maxUploadSize, DEFAULT_ZIP_LIMITS.maxUploadBytes),
    maxEntries: props.maxEntries ?? DEFAULT_ZIP_LIMITS.maxEntries,
    maxTotalUncompressedBytes: bytes(props.maxUncompressedSize, DEFAULT_ZIP_LIMITS.maxTotalUncompressedBytes),
    maxCompressionRatio: props.maxCompressionRatio ?? DEFAULT_ZIP_LIMITS.maxCompressionRatio,
  };
  if (zipLimits.maxTotalUncompressedBytes < zipLimits.maxUploadBytes) {
    throw propError(scope, 'maxUncompressedSize', `must not be below maxUploadSize (${zipLimits.maxUploadBytes} bytes), got ${zipLimits.maxTotalUncompressedBytes}`);
  }
  const containerOptions: ContainerBuildsOptions | undefined = props.containerBuilds === true ? {}
    : props.containerBuilds ? props.containerBuilds : undefined;
  if (containerOptions) {
    checkDuration(scope, 'containerBuilds.timeout', containerOptions.timeout, Duration.minutes(5), Duration.hours(36));
    checkInteger(scope, 'containerBuilds.maxImageCount', containerOptions.maxImageCount, 1, 10_000);
  }
  const container = containerOptions ? {
    timeout: containerOptions.timeout ?? Duration.seconds(DEFAULT_BUILD_JOB_SETTINGS.containerBuildTimeoutSeconds),
    computeType: containerOptions.computeType ?? codebuild.ComputeType.MEDIUM,
    maxImageCount: containerOptions.maxImageCount ?? 500,
  } : undefined;
  const jobSettings: BuildJobSettings = {
    uploadWindowSeconds: seconds(props.uploadWindow, DEFAULT_BUILD_JOB_SETTINGS.uploadWindowSeconds),
    leaseSeconds: DEFAULT_BUILD_JOB_SETTINGS.leaseSeconds,
    jobRetentionSeconds: seconds(props.jobRetention, DEFAULT_BUILD_JOB_SETTINGS.jobRetentionSeconds),
    idempotencyKeySeconds: seconds(props.idempotencyKeyWindow, DEFAULT_BUILD_JOB_SETTINGS.idempotencyKeySeconds),
    containerBuildTimeoutSeconds: container ? container.timeout.toSeconds() : DEFAULT_BUILD_JOB_SETTINGS.containerBuildTimeoutSeconds,
  };
  const workerTimeout = props.workerTimeout ?? Duration.minutes(15);
  if (!workerTimeout.isUnresolved() && jobSettings.leaseSeconds <= workerTimeout.toSeconds()) {
    throw propError(scope, 'workerTimeout', `must be below the job lease (${jobSettings.leaseSeconds} s), got ${workerTimeout.toSeconds()} s`);
  }
  const webhookSettings: WebhookSettings = {
    maxAttempts: w.maxAttempts ?? DEFAULT_WEBHOOK_SETTINGS.maxAttempts,
    baseDelayMs: ms(w.baseDelay, DEFAULT_WEBHOOK_SETTINGS.baseDelayMs),
    maxDelayMs: ms(w.maxDelay, DEFAULT_WEBHOOK_SETTINGS.maxDelayMs),
    timeoutMs: ms(w.timeout, DEFAULT_WEBHOOK_SETTINGS.timeoutMs),
    // https only: the create API refuses other webhook URLs, so a switch here could only mislead.
    allowHttp: false,
    rotationOverlapSeconds: seconds(w.rotationOverlap, DEFAULT_WEBHOOK_SETTINGS.rotationOverlapSeconds),
  };
  if (webhookSettings.maxDelayMs < webhookSettings.baseDelayMs) {
    throw propError(scope, 'webhook.maxDelay', `must not be below webhook.baseDelay (${webhookSettings.baseDelayMs} ms), got ${webhookSettings.maxDelayMs} ms`);
  }
  const webhookSecretRotation = props.webhookSecretRotation ?? Duration.days(30);
  if (!webhookSecretRotation.isUnresolved() && webhookSettings.rotationOverlapSeconds >= webhookSecretRotation.toSeconds()) {
    throw propError(scope, 'webhook.rotationOverlap', `must be shorter than webhookSecretRotation (${webhookSecretRotation.toHumanString()})`);
  }
  return {
    zipLimits,
    jobSettings,
    webhookSettings,
    webhookSecretRotation,
    container,
    workerTimeout,
    workerMemorySize: props.workerMemorySize ?? 2048,
    artifactRetention: props.artifactRetention ?? Duration.days(90),
    archiveRetention: props.archiveRetention ?? Duration.days(30),
    authorization: props.authorization ?? ApiAuthorization.apiKey(),
  };
}

/** The alarm thresholds checked, with their defaults. */
export function resolveAlarmThresholds(scope: Construct, t: BuildPipelineAlarmThresholds) {
  checkNumber(scope, 'alarmThresholds.functionErrorRatePercent', t.functionErrorRatePercent, 0, 100);
  checkNumber(scope, 'alarmThresholds.buildFailureRatePercent', t.buildFailureRatePercent, 0, 100);
  checkNumber(scope, 'alarmThresholds.api5xxRatePercent', t.api5xxRatePercent, 0, 100);
  checkDuration(scope, 'alarmThresholds.functionP95Duration', t.functionP95Duration, Duration.millis(1), Duration.minutes(15));
  checkDuration(scope, 'alarmThresholds.workerP95Duration', t.workerP95Duration, Duration.millis(1), Duration.minutes(15));
  checkDuration(scope, 'alarmThresholds.webhookP95Duration', t.webhookP95Duration, Duration.millis(1), Duration.minutes(15));
  checkDuration(scope, 'alarmThresholds.buildQueueMaxMessageAge', t.buildQueueMaxMessageAge, Duration.minutes(1), Duration.days(14));
  return {
    functionErrorRatePercent: t.functionErrorRatePercent ?? 5,
    functionP95Duration: t.functionP95Duration ?? Duration.seconds(3),
    workerP95Duration: t.workerP95Duration ?? Duration.minutes(5),
    webhookP95Duration: t.webhookP95Duration ?? Duration.seconds(15),
    buildQueueMaxMessageAge: t.buildQueueMaxMessageAge ?? Duration.minutes(15),
    buildFailureRatePercent: t.buildFailureRatePercent ?? 50,
    api5xxRatePercent: t.api5xxRatePercent ?? 1,
  };
}
