import { randomBytes } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createJob, getJob } from '../../functions/build-pipeline/job-store';
import { uploadStream } from '../../functions/build-pipeline/s3-stream-upload';
import {
  BuildPipelineEnv as E, BUILD_JOBS_TABLE_SCHEMA as S, CONTAINER_BUILDS_DISABLED, DEFAULT_BUILD_JOB_SETTINGS, DEFAULT_ZIP_LIMITS, UploadLayout,
} from '../../lib/build-pipeline/contract';
import { bundleHandlers } from '../../projenrc/bundle-handlers';
import { yazlZip } from '../build-pipeline/zip-corpus';
import { loadHandler, shippedBundle } from '../harness/bundle-handler';
import { startDynamoDbLocal, startFauxqs } from '../harness/emulator-processes';
import { configureHandlerEnv, createBucket, fakeContext, localClients, sqsRecord, uniqueName } from '../harness/local-aws';
import { createLocalTable } from '../harness/local-table';

export interface BuildWorkerBench {
  readonly files: number;
  readonly zipBytes: number;
  readonly uncompressedBytes: number;
  readonly seconds: number;
  /** ZIP bytes processed per second, MB (10^6). */
  readonly mbPerSecond: number;
  /** This process's RSS before the build and at its peak during it (the handler runs in process; the engines do not). */
  readonly rssBeforeMiB: number;
  readonly rssPeakMiB: number;
  /** AWS requests of one build, by operation, counted at the network boundary (a proxy in front of each engine). */
  readonly calls: Record<string, number>;
  /** The same number of PutObjects (15 KB, 32 in flight) from a plain client: the engine's own floor for the build's writes. */
  readonly putOnlySeconds: number;
}

type Counter = { counts: Record<string, number>; endpoint: string; stop(): Promise<void> };

/** The S3 or DynamoDB operation of a request, from its method, query and target header. */
function operation(req: IncomingMessage): string {
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string') return `DynamoDB.${target.split('.').pop()}`;
  const url = new URL(req.url ?? '/', 'http://x');
  const q = url.searchParams;
  if (req.method === 'HEAD') return 'S3.HeadObject';
  if (req.method === 'GET') return q.has('list-type') ? 'S3.ListObjectsV2' : req.headers.range ? 'S3.GetObject (range)' : 'S3.GetObject';
  if (req.method === 'POST' && q.has('uploads')) return 'S3.CreateMultipartUpload';
  if (req.method === 'POST' && q.has('uploadId')) return 'S3.CompleteMultipartUpload';
  if (req.method === 'PUT' && q.has('partNumber')) return 'S3.UploadPart';
  if (req.method === 'PUT') return 'S3.PutObject';
  if (req.method === 'DELETE') return q.has('uploadId') ? 'S3.AbortMultipartUpload' : 'S3.DeleteObject';
  return `S3.${req.method}`;
}

/** A counting HTTP proxy: the bundle's own SDK clients talk to it, so nothing in the handler is instrumented. */
async function countingProxy(upstream: string): Promise<Counter> {
  const target = new URL(upstream);
  const counts: Record<string, number> = {};
  const server: Server = createServer((req, res) => {
    const op = operation(req);
    counts[op] = (counts[op] ?? 0) + 1;
    const forward = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    forward.on('error', (err) => { res.writeHead(502); res.end(String(err)); });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    counts,
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** 5,000 files of ~15 KB (9.5 KB random, 6 KB text): a ~50 MB archive that deflate barely shrinks, as bundled code with assets. */
async function benchArchive(files: number): Promise<{ zip: Buffer; uncompressed: number }> {
  const text = 'export const handler = async (event) => ({ statusCode: 200, body: JSON.stringify(event) });\n'.repeat(66);
  const entries = Array.from({ length: files }, (_, i) => ({
    name: i === 0 ? 'index.js' : `node_modules/pkg-${i % 97}/lib/file-${i}.js`,
    data: Buffer.concat([Buffer.from(text), randomBytes(9_500)]),
  }));
  return { zip: await yazlZip(entries), uncompressed: entries.reduce((n, e) => n + e.data.length, 0) };
}

/**
 * The engines: those named by TEST_DYNAMODB_ENDPOINT / TEST_FAUXQS_ENDPOINT when set (left running), else started
 * here one after the other (if the second fails to start, the first is stopped) and stopped at the end.
 */
async function engines(): Promise<{ dynamodb: { endpoint: string; stop(): Promise<void> }; fauxqs: { endpoint: string; stop(): Promise<void> } }> {
  const { TEST_DYNAMODB_ENDPOINT: ddb, TEST_FAUXQS_ENDPOINT: fq } = process.env;
  if (ddb && fq) return { dynamodb: { endpoint: ddb, stop: async () => undefined }, fauxqs: { endpoint: fq, stop: async () => undefined } };
  const dynamodb = await startDynamoDbLocal();
  const fauxqs = await startFauxqs().catch(async (error: unknown) => { await dynamodb.stop(); throw error; });
  return { dynamodb, fauxqs };
}

/**
 * One build of a ~50 MB, 5,000-file archive through the real worker bundle, against
 * fauxqs (S3) and DynamoDB Local started here: wall time, MB/s of ZIP processed, peak RSS
 * of this process (the handler's), and the AWS requests the build made.
 */
export async function measureBuildWorker(files = 5_000): Promise<BuildWorkerBench> {
  await bundleHandlers({ onlyOutdated: true });
  const { dynamodb, fauxqs } = await engines();
  const [s3Proxy, ddbProxy] = await Promise.all([countingProxy(fauxqs.endpoint), countingProxy(dynamodb.endpoint)]);
  try {
    process.env.TEST_DYNAMODB_ENDPOINT = dynamodb.endpoint;
    process.env.TEST_FAUXQS_ENDPOINT = fauxqs.endpoint;
    const clients = localClients();
    const tableName = uniqueName('bench-build-jobs');
    await createLocalTable(clients.ddb, tableName, {
      partitionKey: S.partitionKey, sortKey: S.sortKey, indexes: [S.functionIndex, S.awaitingUploadIndex], timeToLiveAttribute: S.timeToLiveAttribute,
    });
    const [uploads, artifacts] = [uniqueName('bench-uploads'), uniqueName('bench-artifacts')];
    await Promise.all([createBucket(clients.s3, uploads), createBucket(clients.s3, artifacts)]);
    type Handler = (e: SQSEvent, c: Context) => Promise<SQSBatchResponse>;
    const bundle = shippedBundle('functions/build-pipeline/build-worker.ts');
    /** A fresh load of the bundle (its clients take their endpoints at load): through the counting proxies, or straight to the engines. */
    const load = (counted: boolean): Handler => {
      configureHandlerEnv({
        [E.JOBS_TABLE_NAME]: tableName,
        [E.UPLOADS_BUCKET_NAME]: uploads,
        [E.ARTIFACTS_BUCKET_NAME]: artifacts,
        [E.ZIP_LIMITS]: JSON.stringify(DEFAULT_ZIP_LIMITS),
        [E.JOB_SETTINGS]: JSON.stringify(DEFAULT_BUILD_JOB_SETTINGS),
        [E.CONTAINER_BUILD_PROJECT]: CONTAINER_BUILDS_DISABLED,
        ...(counted ? { AWS_ENDPOINT_URL_S3: s3Proxy.endpoint, AWS_ENDPOINT_URL_DYNAMODB: ddbProxy.endpoint } : {}),
      });
      delete require.cache[require.resolve(bundle.file)];
      return loadHandler<Handler>(bundle);
    };
    const jobs = { db: clients.doc, tableName, now: () => new Date() };
    const context = { ...fakeContext('build-worker'), getRemainingTimeInMillis: () => 900_000 };
    const MiB = 1024 * 1024;

    const run = async (handler: Handler, zip: Buffer) => {
      const { job } = await createJob({ functionName: 'bench', runtime: 'nodejs24.x' }, jobs);
      const chunks = Array.from({ length: Math.ceil(zip.length / MiB) }, (_, i) => zip.subarray(i * MiB, (i + 1) * MiB));
      await uploadStream(clients.s3, { bucket: uploads, key: UploadLayout.key(job.jobId), contentType: 'application/zip' }, chunks);
      const body = JSON.stringify({
        Records: [{ eventName: 'ObjectCreated:Post', s3: { bucket: { name: uploads }, object: { key: UploadLayout.key(job.jobId), size: zip.length } } }],
      });
      for (const counter of [s3Proxy, ddbProxy]) for (const k of Object.keys(counter.counts)) delete counter.counts[k];
      const start = process.hrtime.bigint();
      const result = await handler({ Records: [sqsRecord(body)] }, context);
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const done = await getJob(job.jobId, jobs);
      if (result.batchItemFailures.length || done?.status !== 'completed') throw new Error(`bench: build ended ${done?.status} ${done?.failureMessage ?? ''}`);
      return seconds;
    };

    const { zip, uncompressed } = await benchArchive(files);
    const handler = load(false);
    await run(handler, (await benchArchive(20)).zip); // warm: module init, connections, JIT
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 5);
    let seconds: number;
    try {
      seconds = await run(handler, zip);
    } finally {
      clearInterval(sampler);
    }

    // The engine's own ceiling: the same number of small PutObjects, 32 in flight, from a plain client.
    const putStart = process.hrtime.bigint();
    const body = Buffer.alloc(15_000);
    for (let i = 0; i < files; i += 32) {
      await Promise.all(Array.from({ length: Math.min(32, files - i) }, (_, k) =>
        clients.s3.send(new PutObjectCommand({ Bucket: artifacts, Key: `ceiling/${i + k}`, Body: body }))));
    }
    const putOnlySeconds = Number(process.hrtime.bigint() - putStart) / 1e9;

    // Counted through the proxies last (they run in this process and would slow the timed build).
    await run(load(true), zip);
    const calls = { ...s3Proxy.counts, ...ddbProxy.counts };
    return {
      files,
      zipBytes: zip.length,
      uncompressedBytes: uncompressed,
      seconds,
      mbPerSecond: zip.length / 1e6 / seconds,
      rssBeforeMiB: rssBefore / MiB,
      rssPeakMiB: peak / MiB,
      calls,
      putOnlySeconds,
    };
  } finally {
    await Promise.all([s3Proxy.stop(), ddbProxy.stop()]);
    await Promise.all([dynamodb.stop(), fauxqs.stop()]);
  }
}

/** The bench's report lines (run.ts and this file's own `main`). */
export function printBuildWorker(r: BuildWorkerBench): void {
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  const growth = (r.rssPeakMiB - r.rssBeforeMiB).toFixed(0);
  console.log(`Build worker, one build through the real bundle (fauxqs S3, DynamoDB Local), node ${process.version}:`);
  console.log(`  archive: ${r.files} files, ${mb(r.zipBytes)} zipped, ${mb(r.uncompressedBytes)} inflated`);
  console.log(`  ${r.seconds.toFixed(2)} s, ${r.mbPerSecond.toFixed(1)} MB/s of ZIP; RSS ${r.rssBeforeMiB.toFixed(0)} MiB before, peak ${r.rssPeakMiB.toFixed(0)} MiB (+${growth} MiB)`);
  const total = (prefix: string) => Object.entries(r.calls).filter(([k]) => k.startsWith(prefix)).reduce((n, [, v]) => n + v, 0);
  console.log(`  the engine alone: ${r.files} PutObjects of 15 KB, 32 in flight, take ${r.putOnlySeconds.toFixed(2)} s`);
  console.log(`  AWS requests: S3 ${total('S3.')}, DynamoDB ${total('DynamoDB.')}`);
  for (const [op, n] of Object.entries(r.calls).sort()) console.log(`    ${op.padEnd(30)} ${n}`);
}

if (require.main === module) {
  measureBuildWorker().then(printBuildWorker).catch((error) => {
    console.error(error);
    process.exitCode = 1;
  }).finally(() => process.exit()); // the handler's SDK sockets would keep the process alive
}
