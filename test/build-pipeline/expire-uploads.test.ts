import { jobsTable, type JobsTable } from './jobs-table';
import { expireUploads, UPLOAD_EXPIRY_GRACE_SECONDS } from '../../functions/build-pipeline/expire-uploads-logic';
import { createJob, getJob, markQueued, type BuildJob } from '../../functions/build-pipeline/job-store';
import { BuildPipelineEnv, DEFAULT_BUILD_JOB_SETTINGS } from '../../lib/build-pipeline/contract';
import { loadHandler, shippedBundle } from '../harness/bundle-handler';
import { configureHandlerEnv, fakeContext } from '../harness/local-aws';

const WINDOW = DEFAULT_BUILD_JOB_SETTINGS.uploadWindowSeconds;

/** A job whose upload expires at `expiresAt` (created one upload window before it). */
async function jobExpiringAt(t: JobsTable, expiresAt: Date): Promise<BuildJob> {
  t.clock.now = new Date(expiresAt.getTime() - WINDOW * 1000);
  return (await createJob({ functionName: 'orders', runtime: 'nodejs24.x' }, t.services)).job;
}
const minutes = (n: number) => n * 60_000;

describe('upload expiry sweep (shipped bundle, real clock)', () => {
  let t: JobsTable;
  let sweep: (event: unknown, context: unknown) => Promise<any>;
  beforeAll(async () => {
    t = await jobsTable();
    configureHandlerEnv({
      [BuildPipelineEnv.JOBS_TABLE_NAME]: t.tableName,
      [BuildPipelineEnv.JOB_SETTINGS]: JSON.stringify(DEFAULT_BUILD_JOB_SETTINGS),
    });
    sweep = loadHandler(shippedBundle('functions/build-pipeline/expire-uploads.ts'));
  });

  test('fails jobs past window + grace with UPLOAD_EXPIRED; jobs within the grace, not yet expired or already queued are untouched', async () => {
    const now = Date.now();
    const past = await jobExpiringAt(t, new Date(now - minutes(10)));
    const justPastGrace = await jobExpiringAt(t, new Date(now - UPLOAD_EXPIRY_GRACE_SECONDS * 1000 - 30_000));
    const inGrace = await jobExpiringAt(t, new Date(now - minutes(2)));
    const waiting = await jobExpiringAt(t, new Date(now + minutes(5)));
    const uploaded = await jobExpiringAt(t, new Date(now - minutes(30)));
    t.clock.now = new Date(now - minutes(31));
    await markQueued(uploaded.jobId, t.services);

    const report = await sweep({}, fakeContext('build-expire'));
    expect(report).toMatchObject({ examined: 2, expired: 2, skipped: {}, more: false });
    for (const job of [past, justPastGrace]) {
      expect(await getJob(job.jobId, t.services)).toMatchObject({
        status: 'failed', failureReason: 'UPLOAD_EXPIRED', failureMessage: expect.stringContaining('create a new build'), version: 2,
      });
      // left the sparse index: the next sweep does not read it again
      expect(await t.rawItem(`JOB#${job.jobId}`, 'JOB')).not.toHaveProperty('AW_SK');
    }
    expect(await getJob(inGrace.jobId, t.services)).toMatchObject({ status: 'awaiting_upload', version: 1 });
    expect(await getJob(waiting.jobId, t.services)).toMatchObject({ status: 'awaiting_upload', version: 1 });
    expect(await getJob(uploaded.jobId, t.services)).toMatchObject({ status: 'queued', version: 2 });

    expect(await sweep({}, fakeContext('build-expire'))).toMatchObject({ examined: 0, expired: 0, more: false });
  });
});

describe('expireUploads (logic, settable clock)', () => {
  test('many jobs: read in pages, capped per run, the rest on the next runs', async () => {
    const t = await jobsTable();
    const start = t.clock.now;
    const jobs: BuildJob[] = [];
    for (let i = 0; i < 23; i++) jobs.push(await jobExpiringAt(t, new Date(start.getTime() + i * 1000)));
    t.clock.now = new Date(start.getTime() + minutes(30));
    const options = { pageSize: 4, maxJobsPerRun: 10, concurrency: 3 };

    const statuses = async () => (await Promise.all(jobs.map((j) => getJob(j.jobId, t.services)))).map((j) => j?.status);

    const first = await expireUploads(t.services, options);
    expect(first).toMatchObject({ examined: 10, expired: 10, more: true });
    expect(first.cutoff).toBe(new Date(t.clock.now.getTime() - UPLOAD_EXPIRY_GRACE_SECONDS * 1000).toISOString());
    // oldest expiry first: the first run took the first ten jobs
    expect(await statuses()).toEqual(jobs.map((_, i) => (i < 10 ? 'failed' : 'awaiting_upload')));
    const rest = [await expireUploads(t.services, options), await expireUploads(t.services, options)];
    expect(rest.map((r) => [r.examined, r.expired, r.more])).toEqual([[10, 10, true], [3, 3, false]]);
    expect(await statuses()).toEqual(jobs.map(() => 'failed'));
  });

  test('the grace boundary: expired 5 min ago is kept, 5 min + 1 s ago is expired', async () => {
    const t = await jobsTable();
    const now = new Date('2026-11-29T10:00:00.000Z');
    const atGrace = await jobExpiringAt(t, new Date(now.getTime() - UPLOAD_EXPIRY_GRACE_SECONDS * 1000));
    const pastGrace = await jobExpiringAt(t, new Date(now.getTime() - UPLOAD_EXPIRY_GRACE_SECONDS * 1000 - 1000));
    t.clock.now = now;
    expect(await expireUploads(t.services)).toMatchObject({ examined: 1, expired: 1 });
    expect((await getJob(atGrace.jobId, t.services))?.status).toBe('awaiting_upload');
    expect((await getJob(pastGrace.jobId, t.services))?.status).toBe('failed');
  });

  test('two overlapping runs expire each job once (conditional writes), and a run asked to stop reads nothing', async () => {
    const t = await jobsTable();
    const jobs: BuildJob[] = [];
    const expiresAt = new Date('2026-11-29T08:00:00.000Z');
    for (let i = 0; i < 8; i++) jobs.push(await jobExpiringAt(t, expiresAt));
    t.clock.now = new Date(expiresAt.getTime() + minutes(60));
    expect(await expireUploads(t.services, { shouldStop: () => true })).toMatchObject({ examined: 0, expired: 0 });

    const [a, b] = await Promise.all([expireUploads(t.services, { pageSize: 3 }), expireUploads(t.services, { pageSize: 3 })]);
    expect(a.expired + b.expired).toBe(8);
    expect((a.skipped.duplicate ?? 0) + (b.skipped.duplicate ?? 0)).toBe(a.examined + b.examined - 8);
    const after = await Promise.all(jobs.map((j) => getJob(j.jobId, t.services)));
    expect(after.map((j) => [j?.status, j?.version])).toEqual(jobs.map(() => ['failed', 2]));
  });
});
