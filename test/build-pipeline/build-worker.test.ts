import { createHash, randomBytes } from 'node:crypto';
import { createDeflateRaw, crc32 } from 'node:zlib';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type _Object } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as yauzl from 'yauzl';
import { jobsTable, type JobsTable } from './jobs-table';
import { s3ObjectCreatedNotification } from './s3-notification';
import { craftZip, yazlZip, type YazlFile } from './zip-corpus';
import { WORKER_MAX_RECEIVES } from '../../functions/build-pipeline/build-worker-logic';
import { createJob, getJob, markQueued, startBuild, type BuildJob, type JobStoreServices } from '../../functions/build-pipeline/job-store';
import { uploadStream } from '../../functions/build-pipeline/s3-stream-upload';
import {
  ArtifactLayout, BuildPipelineEnv as E, CONTAINER_BUILDS_DISABLED, ContainerBuildVariables, DEFAULT_BUILD_JOB_SETTINGS,
  DEFAULT_ZIP_LIMITS, UploadLayout,
} from '../../lib/build-pipeline/contract';
import { loadHandler, shippedBundle } from '../harness/bundle-handler';
import {
  configureHandlerEnv, createBucket, createQueue, deleteMessages, fakeContext, receive, sqsRecord, toSqsEvent, uniqueName,
} from '../harness/local-aws';
import { startJsonEndpoint, type LocalJsonEndpoint } from '../harness/local-json-endpoint';

type Handler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

const MAX_ENTRIES = 100; // BUILD_ZIP_LIMITS of this suite: a small entry limit keeps the too-many-entries archive small
const PROJECT = 'container-builds';
const START_BUILD = 'CodeBuild_20161006.StartBuild';
const MiB = 1024 * 1024;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('build worker (real bundle; fauxqs S3 + SQS, DynamoDB Local, a local CodeBuild endpoint)', () => {
  let t: JobsTable;
  let jobs: JobStoreServices;
  let uploads: string;
  let artifacts: string;
  let queueUrl: string;
  let codeBuild: LocalJsonEndpoint;
  let handler: Handler;
  let disabledHandler: Handler;

  beforeAll(async () => {
    t = await jobsTable();
    jobs = { ...t.services, now: () => new Date() };
    uploads = uniqueName('uploads');
    artifacts = uniqueName('artifacts');
    await Promise.all([createBucket(t.clients.s3, uploads), createBucket(t.clients.s3, artifacts)]);
    queueUrl = await createQueue(t.clients.sqs, uniqueName('worker'));
    codeBuild = await startJsonEndpoint({
      [START_BUILD]: (input: { projectName: string; idempotencyToken: string }) => ({
        build: { id: `${input.projectName}:${input.idempotencyToken}`, buildStatus: 'IN_PROGRESS' },
      }),
    });
    const env = (project: string) => configureHandlerEnv({
      [E.JOBS_TABLE_NAME]: t.tableName,
      [E.UPLOADS_BUCKET_NAME]: uploads,
      [E.ARTIFACTS_BUCKET_NAME]: artifacts,
      [E.ZIP_LIMITS]: JSON.stringify({ ...DEFAULT_ZIP_LIMITS, maxEntries: MAX_ENTRIES }),
      [E.JOB_SETTINGS]: JSON.stringify(DEFAULT_BUILD_JOB_SETTINGS),
      [E.CONTAINER_BUILD_PROJECT]: project,
      AWS_ENDPOINT_URL_CODEBUILD: codeBuild.endpoint,
    });
    const bundle = shippedBundle('functions/build-pipeline/build-worker.ts');
    env(PROJECT);
    jest.isolateModules(() => { handler = loadHandler<Handler>(bundle); });
    env(CONTAINER_BUILDS_DISABLED);
    jest.isolateModules(() => { disabledHandler = loadHandler<Handler>(bundle); });
  });
  afterAll(async () => {
    await codeBuild.stop();
    t.clients.ddb.destroy();
  });

  const newJob = async (runtime = 'nodejs24.x', handlerSetting?: string) =>
    (await createJob({ functionName: 'orders-api', runtime, handler: handlerSetting }, jobs)).job;
  const upload = async (jobId: string, body: Buffer) => {
    // In 1 MiB chunks: above 8 MiB a multipart upload (fauxqs takes at most 11 MiB per request).
    const chunks = Array.from({ length: Math.ceil(body.length / MiB) }, (_, i) => body.subarray(i * MiB, (i + 1) * MiB));
    await uploadStream(t.clients.s3, { bucket: uploads, key: UploadLayout.key(jobId), contentType: UploadLayout.CONTENT_TYPE }, chunks);
    return body.length;
  };
  /** The body S3 sends to the queue for one upload. */
  const notification = (key: string, size: number, bucket = uploads, eventName = 'ObjectCreated:Post') =>
    s3ObjectCreatedNotification(bucket, key, size, eventName);
  /** Through the real queue: sent, received (with its receive count), handed to the handler as Lambda would. */
  const deliver = async (body: string, fn: Handler = handler) => {
    await t.clients.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    const messages = await receive(t.clients.sqs, queueUrl, 10, 1);
    expect(messages).toHaveLength(1);
    const result = await fn(toSqsEvent(messages, 'arn:aws:sqs:us-east-1:000000000000:worker'), fakeContext('build-worker'));
    await deleteMessages(t.clients.sqs, queueUrl, messages); // what Lambda does with the records not in batchItemFailures; the tests redeliver by sending again
    return result;
  };
  const build = async (job: BuildJob, zip: Buffer, fn: Handler = handler) => {
    const size = await upload(job.jobId, zip);
    return deliver(notification(UploadLayout.key(job.jobId), size), fn);
  };
  const objects = async (bucket: string, prefix?: string): Promise<_Object[]> => {
    const all: _Object[] = [];
    let token: string | undefined;
    do {
      const page = await t.clients.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      all.push(...(page.Contents ?? []));
      token = page.NextContinuationToken;
    } while (token);
    return all;
  };
  const keys = async (bucket: string, prefix?: string) => (await objects(bucket, prefix)).map((o) => o.Key!).sort();
  const getBytes = async (bucket: string, key: string) =>
    Buffer.from(await (await t.clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray());
  const job = async (jobId: string) => (await getJob(jobId, jobs))!;

  /** The deployment ZIP's entries as a reader sees them. */
  type ZipEntry = { name: string; mode: number; data: Buffer; mtime: number; method: number };
  const readZip = (zip: Buffer) => new Promise<ZipEntry[]>((resolve, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true }, (err, file) => {
      if (err) return reject(err);
      const out: ZipEntry[] = [];
      file.on('entry', (entry: yauzl.Entry) => file.openReadStream(entry, (e, stream) => {
        if (e) return reject(e);
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          // eslint-disable-next-line no-bitwise
          const mode = entry.externalFileAttributes >>> 16;
          out.push({ name: entry.fileName, mode, data: Buffer.concat(chunks), mtime: entry.lastModFileDate, method: entry.compressionMethod });
          file.readEntry();
        });
      }));
      file.on('end', () => resolve(out));
      file.on('error', reject);
      file.readEntry();
    });
  });

  const FILES: YazlFile[] = [
    { name: 'src/', directory: true },
    { name: 'src/lib/util.js', data: 'exports.run = async () => "ok";\n'.repeat(40), mode: 0o100664 },
    { name: 'index.js', data: 'exports.handler = require("./src/lib/util").run;\n', mode: 0o100600 },
    { name: 'bin/tool', data: '#!/bin/sh\necho hi\n', mode: 0o100700 },
    { name: 'a b/ü.txt', data: 'unicode', mode: 0o100644 },
  ];

  test('an upload becomes files, manifest and a normalized deployment ZIP under builds/{jobId}/ only; the job completes with its SHA-256 and size', async () => {
    const j = await newJob();
    const result = await build(j, await yazlZip(FILES));
    expect(result.batchItemFailures).toEqual([]);

    const prefix = ArtifactLayout.prefix(j.jobId);
    expect(await keys(artifacts, prefix)).toEqual([
      `${prefix}artifact.zip`,
      `${prefix}files/a b/ü.txt`,
      `${prefix}files/bin/tool`,
      `${prefix}files/index.js`,
      `${prefix}files/src/lib/util.js`,
      `${prefix}manifest.json`,
    ]);
    // Nothing outside builds/{jobId}/ of some job in the artifacts bucket; the uploads bucket holds only uploads.
    expect((await keys(artifacts)).every((k) => /^builds\/[0-9a-f-]{36}\//.test(k))).toBe(true);
    expect((await keys(uploads)).every((k) => /^uploads\/[0-9a-f-]{36}\.zip$/.test(k))).toBe(true);

    const done = await job(j.jobId);
    const zip = await getBytes(artifacts, ArtifactLayout.artifactKey(j.jobId));
    expect(done).toMatchObject({
      status: 'completed',
      attempts: 1,
      artifact: {
        bucket: artifacts,
        key: ArtifactLayout.artifactKey(j.jobId),
        manifestKey: ArtifactLayout.manifestKey(j.jobId),
        sha256: sha256(zip),
        size: zip.length,
        fileCount: 4,
      },
    });
    expect(done).not.toHaveProperty('leaseOwner');

    const entries = await readZip(zip);
    expect(entries.map((e) => e.name)).toEqual(['a b/ü.txt', 'bin/tool', 'index.js', 'src/lib/util.js']);
    expect(entries.map((e) => e.mode.toString(8))).toEqual(['100644', '100755', '100644', '100644']);
    expect(new Set(entries.map((e) => e.mtime)).size).toBe(1);
    expect(entries.every((e) => e.method === 8)).toBe(true);
    for (const e of entries) expect(e.data.toString()).toBe(String(FILES.find((f) => f.name === e.name)!.data));
    const manifest = JSON.parse((await getBytes(artifacts, ArtifactLayout.manifestKey(j.jobId))).toString());
    expect(manifest).toMatchObject({ fileCount: 4, handlerFile: 'index.js', runtime: 'nodejs24.x' });
  });

  test('the deployment ZIP is byte-identical for the same files, whatever their order, times, modes and compression in the upload', async () => {
    const [a, b] = [await newJob(), await newJob()];
    const shuffled: YazlFile[] = [...FILES].reverse().map((f) => ({ ...f, compress: false, mode: f.name === 'bin/tool' ? 0o100777 : 0o100666 }));
    expect((await build(a, await yazlZip(FILES))).batchItemFailures).toEqual([]);
    expect((await build(b, await yazlZip(shuffled))).batchItemFailures).toEqual([]);
    const [za, zb] = [await getBytes(artifacts, ArtifactLayout.artifactKey(a.jobId)), await getBytes(artifacts, ArtifactLayout.artifactKey(b.jobId))];
    expect(za.equals(zb)).toBe(true);
    expect((await job(a.jobId)).artifact!.sha256).toBe((await job(b.jobId)).artifact!.sha256);
  });

  test('a redelivered notification does not rebuild: same objects and ETags, job version unchanged', async () => {
    const j = await newJob();
    const zip = await yazlZip(FILES);
    await build(j, zip);
    const before = { objects: await objects(artifacts, ArtifactLayout.prefix(j.jobId)), job: await job(j.jobId) };
    const again = await deliver(notification(UploadLayout.key(j.jobId), zip.length));
    expect(again.batchItemFailures).toEqual([]);
    const after = await objects(artifacts, ArtifactLayout.prefix(j.jobId));
    const identity = (o: _Object) => [o.Key, o.ETag, o.LastModified?.toISOString()];
    expect(after.map(identity)).toEqual(before.objects.map(identity));
    expect(await job(j.jobId)).toEqual(before.job);
  });

  test('a large deployment ZIP (10 MiB, incompressible; over one 8 MiB part) is written as a multipart upload; SHA-256 and size match the object', async () => {
    const j = await newJob();
    const big = randomBytes(10 * MiB); // fauxqs takes at most 11 MiB per request: the extracted file is one PutObject
    expect((await build(j, await yazlZip([...FILES, { name: 'model.bin', data: big }]))).batchItemFailures).toEqual([]);
    const zip = await getBytes(artifacts, ArtifactLayout.artifactKey(j.jobId));
    const done = await job(j.jobId);
    expect(done.artifact).toMatchObject({ sha256: sha256(zip), size: zip.length, fileCount: 5 });
    expect(zip.length).toBeGreaterThan(10 * MiB);
    const head = (await objects(artifacts, ArtifactLayout.artifactKey(j.jobId)))[0];
    expect(head.ETag).toMatch(/-2"$/); // two parts of the multipart upload
    expect((await readZip(zip)).find((e) => e.name === 'model.bin')!.data.equals(big)).toBe(true);
  });

  test('crash mid-build: a job left building by a dead worker is retried while its lease holds, then taken over and completed', async () => {
    const j = await newJob();
    const zip = await yazlZip(FILES);
    await upload(j.jobId, zip);
    await markQueued(j.jobId, jobs);
    // The dead worker: took a 1-second lease and wrote one file half-way, then vanished.
    await startBuild(j.jobId, 'dead-request/dead-message', { ...jobs, settings: { leaseSeconds: 1 } });
    await t.clients.s3.send(new PutObjectCommand({ Bucket: artifacts, Key: ArtifactLayout.fileKey(j.jobId, 'index.js'), Body: 'partial' }));

    const whileHeld = await deliver(notification(UploadLayout.key(j.jobId), zip.length));
    expect(whileHeld.batchItemFailures).toHaveLength(1);
    expect(await job(j.jobId)).toMatchObject({ status: 'building', leaseOwner: 'dead-request/dead-message' });

    await new Promise((r) => setTimeout(r, 1_100));
    const after = await deliver(notification(UploadLayout.key(j.jobId), zip.length));
    expect(after.batchItemFailures).toEqual([]);
    expect(await job(j.jobId)).toMatchObject({ status: 'completed', attempts: 2 });
    expect((await getBytes(artifacts, ArtifactLayout.fileKey(j.jobId, 'index.js'))).toString()).toBe(String(FILES[2].data));
  });

  const INDEX = { name: 'index.js', data: Buffer.from('exports.handler = async () => 1;\n') };
  const hostile: Array<[string, () => Promise<Buffer> | Buffer, string]> = [
    ['path traversal (../../escape.js)', () => craftZip([INDEX, { name: '../../escape.js', data: Buffer.from('evil') }]), 'UNSAFE_PATH'],
    ['symlink entry', () => yazlZip([{ name: 'index.js', data: 'x' }, { name: 'link', data: '/etc/passwd', mode: 0o120777 }]), 'SYMLINK_ENTRY'],
    ['duplicate entry', () => craftZip([INDEX, INDEX]), 'DUPLICATE_ENTRY'],
    [`too many entries (${MAX_ENTRIES + 1}, limit ${MAX_ENTRIES} from BUILD_ZIP_LIMITS)`,
      () => yazlZip(Array.from({ length: MAX_ENTRIES + 1 }, (_, i) => ({ name: i === 0 ? 'index.js' : `f${i}.js`, data: 'x' }))), 'TOO_MANY_ENTRIES'],
    ['ratio bomb (16 MiB of zeros in ~16 KB)', () => craftZip([INDEX, { name: 'zeros.bin', data: Buffer.alloc(16 * 1024 * 1024) }]), 'COMPRESSION_RATIO_EXCEEDED'],
    ['encrypted entry', () => craftZip([INDEX, { name: 'secret.js', data: Buffer.from('x'), flags: 0x801 }]), 'ENCRYPTED_ENTRY'],
    ['not a zip', () => randomBytes(4096), 'NOT_A_ZIP'],
    ['missing handler file', () => yazlZip([{ name: 'app.js', data: 'x' }]), 'HANDLER_FILE_MISSING'],
  ];
  test.each(hostile)('hostile archive: %s → failed with its reason; nothing at all under builds/{jobId}/', async (_, make, reason) => {
    const j = await newJob();
    expect((await build(j, await make())).batchItemFailures).toEqual([]);
    expect(await job(j.jobId)).toMatchObject({ status: 'failed', failureReason: reason, failureMessage: expect.any(String) });
    expect(await keys(artifacts, ArtifactLayout.prefix(j.jobId))).toEqual([]);
  });

  /** 1 GiB of zeros deflated (~1 MiB), streamed so the test itself never holds the gigabyte. */
  async function gigabyteOfZeros(): Promise<{ payload: Buffer; crc: number; size: number }> {
    const size = 1024 * 1024 * 1024;
    const chunk = Buffer.alloc(1024 * 1024);
    const deflate = createDeflateRaw({ level: 9 });
    const out: Buffer[] = [];
    deflate.on('data', (c: Buffer) => out.push(c));
    let crc = 0;
    for (let i = 0; i < size / chunk.length; i++) {
      crc = crc32(chunk, crc);
      if (!deflate.write(chunk)) await new Promise((r) => deflate.once('drain', r));
    }
    await new Promise((r) => deflate.end(r));
    return { payload: Buffer.concat(out), crc, size };
  }
  /** Runs `work` and samples this process's RSS every 5 ms: the growth over the starting RSS at its peak. */
  async function measured<T>(work: () => Promise<T>): Promise<{ value: T; ms: number; rssGrowthMiB: number }> {
    const start = process.memoryUsage().rss;
    let peak = start;
    const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 5);
    const began = Date.now();
    try {
      const value = await work();
      peak = Math.max(peak, process.memoryUsage().rss);
      return { value, ms: Date.now() - began, rssGrowthMiB: (peak - start) / 1024 / 1024 };
    } finally {
      clearInterval(timer);
    }
  }

  test('1 GiB bombs: honest headers → UNCOMPRESSED_TOO_LARGE, lying headers (declares 1 KiB) → ENTRY_SIZE_MISMATCH; each in < 3 s and < 64 MiB RSS growth', async () => {
    const bomb = await gigabyteOfZeros();
    expect(bomb.payload.length).toBeLessThan(2 * 1024 * 1024);
    const cases: Array<[Buffer, string]> = [
      [craftZip([INDEX, { name: 'zeros.bin', payload: bomb.payload, crc: bomb.crc, declaredUncompressed: bomb.size }]), 'UNCOMPRESSED_TOO_LARGE'],
      [craftZip([INDEX, { name: 'zeros.bin', payload: bomb.payload, crc: bomb.crc, declaredUncompressed: 1024 }]), 'ENTRY_SIZE_MISMATCH'],
    ];
    for (const [zip, reason] of cases) {
      const j = await newJob();
      const size = await upload(j.jobId, zip);
      const run = await measured(() => deliver(notification(UploadLayout.key(j.jobId), size)));
      expect(run.value.batchItemFailures).toEqual([]);
      expect(await job(j.jobId)).toMatchObject({ status: 'failed', failureReason: reason });
      expect(await keys(artifacts, ArtifactLayout.prefix(j.jobId))).toEqual([]);
      expect(run.ms).toBeLessThan(3_000);
      expect(run.rssGrowthMiB).toBeLessThan(64);
    }
  });

  test('notifications that are not an upload of a job are acknowledged and never built (other prefix, other bucket, other event, S3 test event)', async () => {
    const j = await newJob();
    const zip = await yazlZip(FILES);
    await upload(j.jobId, zip);
    const bodies = [
      notification(`other/${j.jobId}.zip`, zip.length),
      notification(`uploads/${j.jobId}.zip.bak`, zip.length),
      notification(`uploads/x/../${j.jobId}.zip`, zip.length),
      notification(`uploads/${j.jobId}`, zip.length),
      notification(UploadLayout.key(j.jobId), zip.length, 'someone-elses-bucket'),
      notification(UploadLayout.key(j.jobId), zip.length, uploads, 'ObjectRemoved:Delete'),
      JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Time: new Date().toISOString(), Bucket: uploads, RequestId: 'X', HostId: 'Y' }),
    ];
    for (const body of bodies) expect((await deliver(body)).batchItemFailures).toEqual([]);
    expect(await job(j.jobId)).toMatchObject({ status: 'awaiting_upload', version: 1 });
    expect(await keys(artifacts, ArtifactLayout.prefix(j.jobId))).toEqual([]);
  });

  test('partial batch: a malformed body fails alone (it goes to the DLQ after its receives); the other records are acknowledged', async () => {
    const records: SQSRecord[] = [sqsRecord('not json'), sqsRecord(notification('other/x.zip', 1)), sqsRecord(JSON.stringify({ Records: [{ nope: 1 }] }))];
    const result = await handler({ Records: records }, fakeContext('build-worker'));
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: records[0].messageId }, { itemIdentifier: records[2].messageId }]);
  });

  test(`an error that is not the archive's (the upload vanished) is retried, and fails the job INTERNAL_ERROR on receive ${WORKER_MAX_RECEIVES}`, async () => {
    const j = await newJob();
    const size = await upload(j.jobId, await yazlZip(FILES));
    await t.clients.s3.send(new DeleteObjectCommand({ Bucket: uploads, Key: UploadLayout.key(j.jobId) }));
    const first = await deliver(notification(UploadLayout.key(j.jobId), size));
    expect(first.batchItemFailures).toHaveLength(1);
    expect(await job(j.jobId)).toMatchObject({ status: 'building' });

    // Another job whose upload vanished, on the queue's last receive: the job fails instead of staying building.
    const k = await newJob();
    await upload(k.jobId, await yazlZip(FILES));
    await t.clients.s3.send(new DeleteObjectCommand({ Bucket: uploads, Key: UploadLayout.key(k.jobId) }));
    const last = sqsRecord(notification(UploadLayout.key(k.jobId), size));
    last.attributes.ApproximateReceiveCount = String(WORKER_MAX_RECEIVES);
    expect((await handler({ Records: [last] }, fakeContext('build-worker'))).batchItemFailures).toEqual([]);
    expect(await job(k.jobId)).toMatchObject({ status: 'failed', failureReason: 'INTERNAL_ERROR' });
  });

  test('a build that cannot finish before the Lambda timeout fails the job INTERNAL_ERROR on its last receive (no job left building)', async () => {
    const j = await newJob();
    const size = await upload(j.jobId, await yazlZip(FILES));
    const record = sqsRecord(notification(UploadLayout.key(j.jobId), size));
    record.attributes.ApproximateReceiveCount = String(WORKER_MAX_RECEIVES);
    const context = { ...fakeContext('build-worker'), getRemainingTimeInMillis: () => 15_001 }; // 1 ms after the 15 s margin
    expect((await handler({ Records: [record] }, context)).batchItemFailures).toEqual([]);
    expect(await job(j.jobId)).toMatchObject({ status: 'failed', failureReason: 'INTERNAL_ERROR' });
  });

  test('container runtime: extracted and packaged, then CodeBuild StartBuild on the deployment ZIP; the job stays building, leased to codebuild:<id>', async () => {
    const j = await newJob('container');
    const zip = await yazlZip([{ name: 'Dockerfile', data: 'FROM public.ecr.aws/lambda/nodejs:24\nCOPY app.js ./\n' }, { name: 'app.js', data: 'x' }]);
    codeBuild.calls.length = 0;
    expect((await build(j, zip)).batchItemFailures).toEqual([]);

    expect(codeBuild.calls).toHaveLength(1);
    const { target, input } = codeBuild.calls[0];
    expect(target).toBe(START_BUILD);
    expect(input).toEqual({
      projectName: PROJECT,
      sourceTypeOverride: 'S3',
      sourceLocationOverride: `${artifacts}/${ArtifactLayout.artifactKey(j.jobId)}`,
      environmentVariablesOverride: [{ name: ContainerBuildVariables.JOB_ID, value: j.jobId, type: 'PLAINTEXT' }],
      idempotencyToken: expect.stringMatching(/^[0-9a-f-]{36}$/),
      timeoutInMinutesOverride: DEFAULT_BUILD_JOB_SETTINGS.containerBuildTimeoutSeconds / 60,
    });
    const buildId = `${PROJECT}:${input.idempotencyToken}`;
    const leased = await job(j.jobId);
    const zipBytes = await getBytes(artifacts, ArtifactLayout.artifactKey(j.jobId));
    expect(leased).toMatchObject({
      status: 'building',
      leaseOwner: `codebuild:${buildId}`,
      containerBuildId: buildId,
      artifact: { key: ArtifactLayout.artifactKey(j.jobId), sha256: sha256(zipBytes), size: zipBytes.length, fileCount: 2 },
    });
    const leaseSeconds = (Date.parse(leased.leaseExpiresAt!) - Date.now()) / 1000;
    expect(leaseSeconds).toBeGreaterThan(DEFAULT_BUILD_JOB_SETTINGS.containerBuildTimeoutSeconds + 900 - 60);
    expect((await readZip(zipBytes)).map((e) => e.name)).toEqual(['Dockerfile', 'app.js']);

    // A redelivery while CodeBuild holds the job: acknowledged, no second build.
    expect((await deliver(notification(UploadLayout.key(j.jobId), zip.length))).batchItemFailures).toEqual([]);
    expect(codeBuild.calls).toHaveLength(1);
  });

  test('container runtime with container builds disabled → failed CONTAINER_BUILDS_DISABLED; nothing under builds/{jobId}/', async () => {
    const j = await newJob('container');
    const zip = await yazlZip([{ name: 'Dockerfile', data: 'FROM scratch\n' }]);
    codeBuild.calls.length = 0;
    expect((await build(j, zip, disabledHandler)).batchItemFailures).toEqual([]);
    expect(await job(j.jobId)).toMatchObject({ status: 'failed', failureReason: 'CONTAINER_BUILDS_DISABLED' });
    expect(await keys(artifacts, ArtifactLayout.prefix(j.jobId))).toEqual([]);
    expect(codeBuild.calls).toEqual([]);
  });
});
