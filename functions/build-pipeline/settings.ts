/**
 * BuildPipeline's JSON settings variables (BUILD_ZIP_LIMITS, BUILD_JOB_SETTINGS,
 * BUILD_WEBHOOK_SETTINGS), parsed and checked once at init. The construct writes every field,
 * so a missing, unknown or out-of-range field is a deployment defect: the cold start fails
 * with a ConfigurationError naming the variable and the field, instead of a build failing
 * later on a limit that silently became `undefined`.
 */
import * as z from 'zod/mini';
import {
  BuildPipelineEnv, type BuildJobSettings, type WebhookSettings, type ZipLimits,
} from '../../lib/build-pipeline/contract';
import { ConfigurationError } from '../shared/config';
import { describeIssue, issuePath } from '../shared/validation';

const count = (min: number, max: number) => z.int().check(z.gte(min), z.lte(max));
const DAY = 24 * 3600;

// Upper bounds are the services' own: S3 takes at most 5 GiB in one POST, keys stop at 1024
// bytes, SQS's maxReceiveCount at 1000 and its visibility at 12 h, CodeBuild runs 5 min-36 h.
const zipLimitsSchema = z.strictObject({
  maxUploadBytes: count(1, 5 * 1024 ** 3),
  maxEntries: count(1, 1_000_000),
  maxTotalUncompressedBytes: count(1, Number.MAX_SAFE_INTEGER),
  maxCompressionRatio: z.number().check(z.gte(1), z.lte(1_000_000)),
  ratioGraceBytes: count(0, Number.MAX_SAFE_INTEGER),
  maxPathBytes: count(1, 1024),
  caseOnlyDuplicates: z.enum(['warn', 'reject']),
});

const jobSettingsSchema = z.strictObject({
  uploadWindowSeconds: count(1, 7 * DAY),
  leaseSeconds: count(1, 7 * DAY),
  jobRetentionSeconds: count(1, 10 * 365 * DAY),
  idempotencyKeySeconds: count(1, 365 * DAY),
  containerBuildTimeoutSeconds: count(300, 36 * 3600),
});

const webhookSettingsSchema = z.strictObject({
  maxAttempts: count(1, 1000),
  baseDelayMs: count(0, 12 * 3600 * 1000),
  maxDelayMs: count(0, 12 * 3600 * 1000),
  timeoutMs: count(1, 15 * 60 * 1000),
  allowHttp: z.boolean(),
  rotationOverlapSeconds: count(0, 365 * DAY),
});

/** Parses one JSON settings variable against `schema`, or throws a ConfigurationError naming `name`. */
export function jsonSetting<S extends z.core.$ZodType>(name: string, value: string | undefined, schema: S): z.infer<S> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value ?? '');
  } catch {
    throw new ConfigurationError(`Environment variable ${name} must be JSON (the construct writes it)`);
  }
  const result = (schema as any)['~standard'].validate(parsed) as { value?: unknown; issues?: ReadonlyArray<any> };
  if (result.issues?.length) {
    const issue = result.issues[0];
    const path = issuePath(issue);
    throw new ConfigurationError(`Environment variable ${name}${path ? ` field '${path}'` : ''}: ${describeIssue(issue)}`);
  }
  return result.value as z.infer<S>;
}

/** BUILD_ZIP_LIMITS: every field of ZipLimits. */
export function readZipLimits(value: string | undefined): ZipLimits {
  return jsonSetting(BuildPipelineEnv.ZIP_LIMITS, value, zipLimitsSchema);
}

/** BUILD_JOB_SETTINGS: every field of BuildJobSettings. */
export function readJobSettings(value: string | undefined): BuildJobSettings {
  return jsonSetting(BuildPipelineEnv.JOB_SETTINGS, value, jobSettingsSchema);
}

/** BUILD_WEBHOOK_SETTINGS: every field of WebhookSettings; the longest retry delay is not below the first. */
export function readWebhookSettings(value: string | undefined): WebhookSettings {
  const settings = jsonSetting(BuildPipelineEnv.WEBHOOK_SETTINGS, value, webhookSettingsSchema);
  if (settings.maxDelayMs < settings.baseDelayMs) {
    throw new ConfigurationError(`Environment variable ${BuildPipelineEnv.WEBHOOK_SETTINGS}: maxDelayMs must not be below baseDelayMs`);
  }
  return settings;
}
