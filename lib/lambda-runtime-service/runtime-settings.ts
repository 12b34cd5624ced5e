import { Duration, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import {
  DEFAULT_CALLBACK_SETTINGS, DEFAULT_FUNCTION_LIMITS, DEFAULT_RUNTIME_SETTINGS, DEFAULT_SCHEDULE_SETTINGS, FUNCTION_PREFIX_PATTERN,
  type CallbackSettings, type FunctionLimits, type RuntimeSettings, type ScheduleSettings,
} from './contract';
import type { LambdaRuntimeAlarmThresholds, LambdaRuntimeServiceProps } from './lambda-runtime-service-props';
import { ApiAuthorization } from '../core/api-authorization';
import { checkDuration, checkInteger, checkNumber, propError } from '../core/prop-checks';

/** The props checked (a ValidationError names the first bad one) and turned into the handlers' settings. */
export function resolveRuntimeSettings(scope: Construct, props: LambdaRuntimeServiceProps) {
  const prefix = props.functionPrefix;
  if (Token.isUnresolved(prefix) || !FUNCTION_PREFIX_PATTERN.test(prefix)) {
    // A token cannot be checked, and IAM resources, schedule names and tags are built from it.
    throw propError(scope, 'functionPrefix', `a literal: a letter, then up to 22 letters, digits or '-', not ending with '-', got '${prefix}'`);
  }
  if (props.jwt && props.authorization) throw propError(scope, 'jwt', 'give either jwt or authorization, not both');
  if (props.jwt) checkJwt(scope, props.jwt.issuer, props.jwt.audience);
  checkDuration(scope, 'jwt.resultsCacheTtl', props.jwt?.resultsCacheTtl, Duration.seconds(0), Duration.hours(1));

  const l = props.limits ?? {};
  checkInteger(scope, 'limits.maxMemoryMb', l.maxMemoryMb, 128, 10_240);
  checkDuration(scope, 'limits.maxTimeout', l.maxTimeout, Duration.seconds(1), Duration.minutes(15));
  checkNumber(scope, 'limits.maxRequestsPerSecond', l.maxRequestsPerSecond, 0.01, 100_000);
  checkInteger(scope, 'limits.maxBurst', l.maxBurst, 1, 100_000);
  checkInteger(scope, 'limits.maxSchedules', l.maxSchedules, 0, 100);
  checkInteger(scope, 'limits.maxReservedConcurrency', l.maxReservedConcurrency, 1, 1000);
  const limits: FunctionLimits = {
    maxMemoryMb: l.maxMemoryMb ?? DEFAULT_FUNCTION_LIMITS.maxMemoryMb,
    maxTimeoutSeconds: l.maxTimeout ? wholeSeconds(scope, 'limits.maxTimeout', l.maxTimeout) : DEFAULT_FUNCTION_LIMITS.maxTimeoutSeconds,
    maxRequestsPerSecond: l.maxRequestsPerSecond ?? DEFAULT_FUNCTION_LIMITS.maxRequestsPerSecond,
    maxBurst: l.maxBurst ?? DEFAULT_FUNCTION_LIMITS.maxBurst,
    maxSchedules: l.maxSchedules ?? DEFAULT_FUNCTION_LIMITS.maxSchedules,
    maxReservedConcurrency: l.maxReservedConcurrency ?? DEFAULT_FUNCTION_LIMITS.maxReservedConcurrency,
  };

  checkDuration(scope, 'metadataCacheTtl', props.metadataCacheTtl, Duration.seconds(0), Duration.minutes(5));
  checkDuration(scope, 'auditRetention', props.auditRetention, Duration.days(1), Duration.days(365));
  const runtime: RuntimeSettings = {
    ...DEFAULT_RUNTIME_SETTINGS,
    metadataCacheTtlSeconds: props.metadataCacheTtl ? wholeSeconds(scope, 'metadataCacheTtl', props.metadataCacheTtl) : DEFAULT_RUNTIME_SETTINGS.metadataCacheTtlSeconds,
    auditRetentionSeconds: props.auditRetention ? props.auditRetention.toSeconds() : DEFAULT_RUNTIME_SETTINGS.auditRetentionSeconds,
  };

  checkInteger(scope, 'scheduleRetryAttempts', props.scheduleRetryAttempts, 0, 185);
  checkDuration(scope, 'scheduleMaxEventAge', props.scheduleMaxEventAge, Duration.minutes(1), Duration.hours(24));
  const schedules: ScheduleSettings = {
    maximumRetryAttempts: props.scheduleRetryAttempts ?? DEFAULT_SCHEDULE_SETTINGS.maximumRetryAttempts,
    maximumEventAgeSeconds: props.scheduleMaxEventAge ? wholeSeconds(scope, 'scheduleMaxEventAge', props.scheduleMaxEventAge) : DEFAULT_SCHEDULE_SETTINGS.maximumEventAgeSeconds,
  };

  const c = props.callbacks ?? {};
  checkInteger(scope, 'callbacks.maxAttempts', c.maxAttempts, 1, 100);
  checkDuration(scope, 'callbacks.baseDelay', c.baseDelay, Duration.seconds(1), Duration.hours(12));
  checkDuration(scope, 'callbacks.maxDelay', c.maxDelay, Duration.seconds(1), Duration.hours(12));
  checkDuration(scope, 'callbacks.timeout', c.timeout, Duration.seconds(1), Duration.minutes(5));
  const callbacks: CallbackSettings = {
    maxAttempts: c.maxAttempts ?? DEFAULT_CALLBACK_SETTINGS.maxAttempts,
    baseDelayMs: c.baseDelay?.toMilliseconds() ?? DEFAULT_CALLBACK_SETTINGS.baseDelayMs,
    maxDelayMs: c.maxDelay?.toMilliseconds() ?? DEFAULT_CALLBACK_SETTINGS.maxDelayMs,
    timeoutMs: c.timeout?.toMilliseconds() ?? DEFAULT_CALLBACK_SETTINGS.timeoutMs,
  };
  if (callbacks.maxDelayMs < callbacks.baseDelayMs) {
    throw propError(scope, 'callbacks.maxDelay', `must not be below callbacks.baseDelay (${callbacks.baseDelayMs} ms), got ${callbacks.maxDelayMs} ms`);
  }

  return {
    prefix,
    limits,
    runtime,
    schedules,
    callbacks,
    authorization: props.authorization ?? (props.jwt ? undefined : ApiAuthorization.apiKey()),
  };
}

function wholeSeconds(scope: Construct, name: string, d: Duration): number {
  const ms = d.toMilliseconds();
  if (ms % 1000 !== 0) throw propError(scope, name, `whole seconds, got ${d.toHumanString()}`);
  return ms / 1000;
}

function checkJwt(scope: Construct, issuer: string, audience: string[]): void {
  if (!Token.isUnresolved(issuer)) {
    let url: URL | undefined;
    try {
      url = new URL(issuer);
    } catch {
      url = undefined;
    }
    // The authorizer fetches the issuer's keys: a plain-http issuer would let anyone on the path sign tokens.
    if (!url || url.protocol !== 'https:' || url.search || url.hash) throw propError(scope, 'jwt.issuer', `an https URL without query or fragment, got '${issuer}'`);
  }
  if (!Token.isUnresolved(audience) && (audience.length === 0 || audience.some((a) => typeof a !== 'string' || a.length === 0))) {
    throw propError(scope, 'jwt.audience', 'one or more non-empty audiences');
  }
}

/** The alarm thresholds checked, with their defaults. */
export function resolveRuntimeAlarmThresholds(scope: Construct, t: LambdaRuntimeAlarmThresholds) {
  checkNumber(scope, 'alarmThresholds.functionErrorRatePercent', t.functionErrorRatePercent, 0, 100);
  checkNumber(scope, 'alarmThresholds.platformErrorRatePercent', t.platformErrorRatePercent, 0, 100);
  checkNumber(scope, 'alarmThresholds.api5xxRatePercent', t.api5xxRatePercent, 0, 100);
  checkInteger(scope, 'alarmThresholds.throttledCalls', t.throttledCalls, 1, 10_000_000);
  checkDuration(scope, 'alarmThresholds.functionP95Duration', t.functionP95Duration, Duration.millis(1), Duration.minutes(15));
  return {
    functionErrorRatePercent: t.functionErrorRatePercent ?? 5,
    functionP95Duration: t.functionP95Duration ?? Duration.seconds(10),
    platformErrorRatePercent: t.platformErrorRatePercent ?? 10,
    throttledCalls: t.throttledCalls ?? 100,
    api5xxRatePercent: t.api5xxRatePercent ?? 1,
  };
}
