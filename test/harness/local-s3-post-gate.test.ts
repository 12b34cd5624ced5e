import { HeadObjectCommand, ListObjectsV2Command, S3Client, GetObjectCommand } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { createBucket, endpoints, localClients, REGION, uniqueName } from './local-aws';
import { postForm, startS3PostGate, type S3PostGate } from './local-s3-post-gate';

/** The gate refuses what S3 would refuse, and lets through (into fauxqs) what S3 would store. */
describe('local S3 POST-policy gate', () => {
  const clients = localClients();
  const bucket = uniqueName('gate').toLowerCase();
  const clock = { offsetMs: 0 };
  let gate: S3PostGate;
  let signer: S3Client;

  beforeAll(async () => {
    await createBucket(clients.s3, bucket);
    gate = await startS3PostGate({ target: endpoints().fauxqs, now: () => new Date(Date.now() + clock.offsetMs) });
    signer = new S3Client({ region: REGION, endpoint: gate.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  });
  afterAll(async () => { signer?.destroy(); await gate?.stop(); });
  afterEach(() => { clock.offsetMs = 0; });

  const presign = (key: string, max = 100) => createPresignedPost(signer, {
    Bucket: bucket,
    Key: key,
    Fields: { 'Content-Type': 'application/zip' },
    Conditions: [['content-length-range', 1, max]],
    Expires: 60,
  });
  const exists = async (key: string) => clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(() => true, () => false);
  const bytes = (n: number) => Buffer.alloc(n, 7);

  test('a valid upload lands in fauxqs under the policy\'s key, bytes intact', async () => {
    const { url, fields } = await presign('uploads/ok.zip');
    expect(url).toBe(`${gate.endpoint}/${bucket}`);
    const res = await postForm(url, fields, bytes(100));
    expect(res.status).toBe(204);
    const object = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'uploads/ok.zip' }));
    expect(Buffer.from(await object.Body!.transformToByteArray())).toEqual(bytes(100));
    expect(object.ContentType).toBe('application/zip');
  });

  test.each([
    ['one byte over content-length-range', 'uploads/big.zip', {}, 101, 400, 'EntityTooLarge'],
    ['an empty file (range starts at 1)', 'uploads/empty.zip', {}, 0, 400, 'EntityTooSmall'],
    ['another key', 'uploads/k.zip', { key: 'uploads/other.zip' }, 10, 403, 'AccessDenied'],
    ['another content type', 'uploads/ct.zip', { 'Content-Type': 'text/html' }, 10, 403, 'AccessDenied'],
    ['a field no condition covers', 'uploads/extra.zip', { 'x-amz-meta-evil': '1' }, 10, 403, 'AccessDenied'],
    ['a tampered signature', 'uploads/sig.zip', { 'X-Amz-Signature': '0'.repeat(64) }, 10, 403, 'SignatureDoesNotMatch'],
  ])('%s is refused and nothing lands', async (_what, key, override: Record<string, string>, size, status, code) => {
    const { url, fields } = await presign(key);
    const res = await postForm(url, { ...fields, ...override }, bytes(size));
    expect({ status: res.status, code: res.code }).toEqual({ status, code });
    expect(res.body).toMatch(/^<\?xml/);
    expect(await exists(key)).toBe(false);
    if (override.key) expect(await exists(override.key)).toBe(false);
  });

  test('signed with a secret the gate does not hold, or an unknown key id: refused', async () => {
    const stranger = new S3Client({ region: REGION, endpoint: gate.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'not-test' } });
    const forged = await createPresignedPost(stranger, { Bucket: bucket, Key: 'uploads/forged.zip', Fields: { 'Content-Type': 'application/zip' }, Expires: 60 });
    stranger.destroy();
    expect((await postForm(forged.url, forged.fields, bytes(10))).code).toBe('SignatureDoesNotMatch');
    const { url, fields } = await presign('uploads/forged.zip');
    const unknownId = fields['X-Amz-Credential']!.replace(/^test\//, 'AKIDOTHER/');
    expect((await postForm(url, { ...fields, 'X-Amz-Credential': unknownId }, bytes(10))).code).toBe('InvalidAccessKeyId');
    expect(await exists('uploads/forged.zip')).toBe(false);
  });

  test('a policy edited to raise the limit fails the signature', async () => {
    const { url, fields } = await presign('uploads/raised.zip', 10);
    const policy = JSON.parse(Buffer.from(fields.Policy!, 'base64').toString('utf8'));
    policy.conditions[0] = ['content-length-range', 1, 1000];
    const res = await postForm(url, { ...fields, Policy: Buffer.from(JSON.stringify(policy)).toString('base64') }, bytes(50));
    expect(res.code).toBe('SignatureDoesNotMatch');
    expect(await exists('uploads/raised.zip')).toBe(false);
  });

  test('an expired policy is refused (S3\'s clock past expiration)', async () => {
    const { url, fields } = await presign('uploads/late.zip');
    clock.offsetMs = 61_000;
    const res = await postForm(url, fields, bytes(10));
    expect({ status: res.status, code: res.code }).toEqual({ status: 403, code: 'AccessDenied' });
    expect(res.body).toContain('Policy expired');
    expect(await exists('uploads/late.zip')).toBe(false);
  });

  test('only the valid upload is in the bucket', async () => {
    const { Contents } = await clients.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect((Contents ?? []).map((o) => o.Key)).toEqual(['uploads/ok.zip']);
  });
});
