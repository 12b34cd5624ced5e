import { createHmac } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import { uploadPolicy } from '../../functions/build-pipeline/upload-policy';
import { DEFAULT_ZIP_LIMITS } from '../../lib/build-pipeline/contract';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const jobId = '0f8fad5b-d9cb-469f-a165-70867728950e';

function decode(policy: string): { expiration: string; conditions: unknown[] } {
  return JSON.parse(Buffer.from(policy, 'base64').toString('utf8'));
}
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

describe('upload policy (presigned S3 POST, signed locally)', () => {
  // Static credentials and a region: nothing to resolve, nothing to fetch.
  const s3 = new S3Client({ region: 'eu-west-1', credentials });
  const send = jest.spyOn(s3, 'send');
  afterAll(() => s3.destroy());

  async function make(maxUploadBytes = DEFAULT_ZIP_LIMITS.maxUploadBytes, windowSeconds = 900) {
    const now = new Date();
    const expiresAt = new Date(now.getTime() + windowSeconds * 1000).toISOString();
    return uploadPolicy(jobId, { maxUploadBytes, expiresAt }, { s3, bucketName: 'uploads-bucket', now: () => now });
  }

  test('the policy holds exactly: size range, exact key, content type, bucket, expiry and the signing fields', async () => {
    const { url, fields, expiresAt } = await make();
    expect(url).toBe('https://uploads-bucket.s3.eu-west-1.amazonaws.com/');
    const policy = decode(fields.Policy!);
    const date = fields['X-Amz-Date']!;
    const shortDate = date.slice(0, 8);
    expect(policy.conditions).toEqual([
      ['content-length-range', 1, 50 * 1024 * 1024],
      { 'Content-Type': 'application/zip' },
      { bucket: 'uploads-bucket' },
      { 'X-Amz-Algorithm': 'AWS4-HMAC-SHA256' },
      { 'X-Amz-Credential': `AKIDEXAMPLE/${shortDate}/eu-west-1/s3/aws4_request` },
      { 'X-Amz-Date': date },
      { key: `uploads/${jobId}.zip` },
    ]);
    // No starts-with or wildcard: the key is exact, no other key can be written with this form.
    expect(JSON.stringify(policy.conditions)).not.toMatch(/starts-with|\$\{filename\}/);
    expect(fields).toMatchObject({ 'key': `uploads/${jobId}.zip`, 'Content-Type': 'application/zip', 'bucket': 'uploads-bucket' });
    expect(fields).not.toHaveProperty('X-Amz-Security-Token');

    // Expiry: 900 s after the signing time, and that is what the caller is told.
    const signedAt = Date.parse(`${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`);
    expect(Date.parse(policy.expiration) - signedAt).toBe(900_000);
    expect(expiresAt).toBe(new Date(policy.expiration).toISOString());
  });

  test('signed locally with the static secret (SigV4 over the policy), no request sent', async () => {
    const { fields } = await make();
    const shortDate = fields['X-Amz-Date']!.slice(0, 8);
    const kDate = hmac(`AWS4${credentials.secretAccessKey}`, shortDate);
    const kSigning = hmac(hmac(hmac(kDate, 'eu-west-1'), 's3'), 'aws4_request');
    expect(fields['X-Amz-Signature']).toBe(hmac(kSigning, fields.Policy!).toString('hex'));
    expect(send).not.toHaveBeenCalled();
  });

  test('the size limit is the one given', async () => {
    const { fields } = await make(1234);
    expect(decode(fields.Policy!).conditions[0]).toEqual(['content-length-range', 1, 1234]);
  });

  test('refuses a hostile job id, a bad limit and a closed window', async () => {
    const now = new Date();
    const services = { s3, bucketName: 'b', now: () => now };
    const expiresAt = new Date(now.getTime() + 60_000).toISOString();
    for (const bad of ['../x', 'a/b', '', 'x'.repeat(65), '-x']) {
      await expect(uploadPolicy(bad, { maxUploadBytes: 10, expiresAt }, services)).rejects.toThrow(/job id/);
    }
    await expect(uploadPolicy(jobId, { maxUploadBytes: 0, expiresAt }, services)).rejects.toThrow(/maxUploadBytes/);
    await expect(uploadPolicy(jobId, { maxUploadBytes: 10, expiresAt: now.toISOString() }, services)).rejects.toThrow(/closed/);
  });
});
