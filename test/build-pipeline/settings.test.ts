import { readJobSettings, readWebhookSettings, readZipLimits } from '../../functions/build-pipeline/settings';
import { ConfigurationError } from '../../functions/shared/config';
import { DEFAULT_BUILD_JOB_SETTINGS, DEFAULT_WEBHOOK_SETTINGS, DEFAULT_ZIP_LIMITS } from '../../lib/build-pipeline/contract';

/** The JSON settings variables: the construct's defaults pass; anything else fails the cold start naming the variable. */
describe('BuildPipeline settings variables', () => {
  const json = (value: unknown) => JSON.stringify(value);

  test('the contract defaults read back unchanged', () => {
    expect(readZipLimits(json(DEFAULT_ZIP_LIMITS))).toEqual(DEFAULT_ZIP_LIMITS);
    expect(readJobSettings(json(DEFAULT_BUILD_JOB_SETTINGS))).toEqual(DEFAULT_BUILD_JOB_SETTINGS);
    expect(readWebhookSettings(json(DEFAULT_WEBHOOK_SETTINGS))).toEqual(DEFAULT_WEBHOOK_SETTINGS);
  });

  const refused: Array<[string, () => unknown, RegExp]> = [
    ['absent', () => readZipLimits(undefined), /BUILD_ZIP_LIMITS must be JSON/],
    ['not JSON', () => readJobSettings('{maxUploadBytes: 1}'), /BUILD_JOB_SETTINGS must be JSON/],
    ['not an object', () => readZipLimits('[]'), /BUILD_ZIP_LIMITS: expected object/],
    ['a missing field', () => readZipLimits(json({ ...DEFAULT_ZIP_LIMITS, maxEntries: undefined })), /BUILD_ZIP_LIMITS field 'maxEntries'/],
    ['an unknown field', () => readJobSettings(json({ ...DEFAULT_BUILD_JOB_SETTINGS, uploadWindow: 1 })), /BUILD_JOB_SETTINGS: unknown field\(s\) 'uploadWindow'/],
    ['a string number', () => readZipLimits(json({ ...DEFAULT_ZIP_LIMITS, maxUploadBytes: '1024' })), /field 'maxUploadBytes': expected number/],
    ['a fraction', () => readJobSettings(json({ ...DEFAULT_BUILD_JOB_SETTINGS, leaseSeconds: 1.5 })), /field 'leaseSeconds'/],
    ['zero upload size', () => readZipLimits(json({ ...DEFAULT_ZIP_LIMITS, maxUploadBytes: 0 })), /field 'maxUploadBytes': must be at least 1/],
    ['above S3\'s 5 GiB POST', () => readZipLimits(json({ ...DEFAULT_ZIP_LIMITS, maxUploadBytes: 6 * 1024 ** 3 })), /maxUploadBytes': must be at most/],
    ['an unknown duplicate rule', () => readZipLimits(json({ ...DEFAULT_ZIP_LIMITS, caseOnlyDuplicates: 'ignore' })), /caseOnlyDuplicates/],
    ['a CodeBuild timeout under 5 min', () => readJobSettings(json({ ...DEFAULT_BUILD_JOB_SETTINGS, containerBuildTimeoutSeconds: 60 })), /containerBuildTimeoutSeconds/],
    ['allowHttp as a string', () => readWebhookSettings(json({ ...DEFAULT_WEBHOOK_SETTINGS, allowHttp: 'false' })), /BUILD_WEBHOOK_SETTINGS field 'allowHttp'/],
    ['more attempts than SQS redrives', () => readWebhookSettings(json({ ...DEFAULT_WEBHOOK_SETTINGS, maxAttempts: 1001 })), /maxAttempts/],
    ['maxDelayMs below baseDelayMs', () => readWebhookSettings(json({ ...DEFAULT_WEBHOOK_SETTINGS, maxDelayMs: 1000 })), /maxDelayMs must not be below baseDelayMs/],
  ];
  test.each(refused)('%s → ConfigurationError naming the variable', (_what, read, message) => {
    expect(read).toThrow(ConfigurationError);
    expect(read).toThrow(message);
  });
});
