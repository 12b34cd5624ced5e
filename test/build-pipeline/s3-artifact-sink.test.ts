import { createHash, randomUUID } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { craftZip, yazlZip } from './zip-corpus';
import { BuildRejectedError, inspectAndExtract } from '../../functions/build-pipeline/extract-logic';
import { s3ArtifactSink } from '../../functions/build-pipeline/s3-artifact-sink';
import { ArtifactLayout } from '../../lib/build-pipeline/contract';
import { createBucket, localClients, uniqueName } from '../harness/local-aws';

/** Extraction through the real S3 of fauxqs: every key lands under builds/{jobId}/. */
describe('S3 artifact sink (fauxqs)', () => {
  let s3: S3Client;
  let bucketName: string;

  beforeAll(async () => {
    s3 = localClients().s3;
    bucketName = uniqueName('artifacts');
    await createBucket(s3, bucketName);
  });
  afterAll(() => s3.destroy());

  async function allKeys(): Promise<string[]> {
    const { Contents } = await s3.send(new ListObjectsV2Command({ Bucket: bucketName }));
    return (Contents ?? []).map((o) => o.Key!).sort();
  }

  test('files and manifest under builds/{jobId}/ only; bytes and SHA-256 as extracted', async () => {
    const jobId = randomUUID();
    const files = { 'index.mjs': 'export const handler = async () => 1;', 'lib/deep/util.mjs': 'export const x = 1;', 'a b/ü.txt': 'unicode' };
    const zip = await yazlZip([{ name: 'lib/', directory: true }, ...Object.entries(files).map(([name, data]) => ({ name, data }))]);
    const sink = s3ArtifactSink({ s3, bucketName, jobId });
    const manifest = await inspectAndExtract(zip, { runtime: 'nodejs22.x' }, sink);

    const keys = (await allKeys()).filter((k) => k.includes(jobId));
    expect(keys).toEqual([
      `builds/${jobId}/files/a b/ü.txt`,
      `builds/${jobId}/files/index.mjs`,
      `builds/${jobId}/files/lib/deep/util.mjs`,
      `builds/${jobId}/manifest.json`,
    ]);
    expect((await allKeys()).every((k) => k.startsWith(`${ArtifactLayout.ROOT}/`))).toBe(true);
    const util = await s3.send(new GetObjectCommand({ Bucket: bucketName, Key: ArtifactLayout.fileKey(jobId, 'lib/deep/util.mjs') }));
    const body = Buffer.from(await util.Body!.transformToByteArray());
    expect(body.toString()).toBe(files['lib/deep/util.mjs']);
    expect(util.Metadata?.sha256).toBe(createHash('sha256').update(body).digest('hex'));
    const stored = await s3.send(new GetObjectCommand({ Bucket: bucketName, Key: ArtifactLayout.manifestKey(jobId) }));
    expect(JSON.parse(await stored.Body!.transformToString())).toEqual(manifest);
  });

  test('a traversal archive writes nothing in the bucket', async () => {
    const jobId = randomUUID();
    const before = await allKeys();
    const zip = craftZip([{ name: 'index.js', data: Buffer.from('x') }, { name: '../../escape.js', data: Buffer.from('evil') }]);
    await expect(inspectAndExtract(zip, { runtime: 'nodejs24.x' }, s3ArtifactSink({ s3, bucketName, jobId })))
      .rejects.toBeInstanceOf(BuildRejectedError);
    expect(await allKeys()).toEqual(before);
  });

  test('the sink refuses a job id or a path that could leave the prefix', async () => {
    expect(() => s3ArtifactSink({ s3, bucketName, jobId: '../other' })).toThrow('Invalid job id');
    expect(() => s3ArtifactSink({ s3, bucketName, jobId: '' })).toThrow('Invalid job id');
    const sink = s3ArtifactSink({ s3, bucketName, jobId: randomUUID() });
    const file = { path: 'x', size: 1, sha256: '', executable: false };
    await expect(sink.putFile('../x', Buffer.from('x'), file)).rejects.toThrow();
    await expect(sink.putFile('a//x', Buffer.from('x'), file)).rejects.toThrow('not normalized');
    expect(sink.keys).toEqual([]);
  });
});
