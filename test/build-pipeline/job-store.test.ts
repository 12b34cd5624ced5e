import { jobsTable } from './jobs-table';
import {
  completeBuild, createJob, expireUpload, failBuild, getJob, handOffLease, IdempotencyKeyReusedError, listJobs, markQueued, startBuild,
  type BuildArtifact, type TransitionResult,
} from '../../functions/build-pipeline/job-store';
import { ValidationError } from '../../functions/shared/errors';
import { BuildEvents, DEFAULT_BUILD_JOB_SETTINGS } from '../../lib/build-pipeline/contract';
import { uniqueName } from '../harness/local-aws';

const ARTIFACT: BuildArtifact = {
  bucket: 'artifacts', key: 'builds/x/artifact.zip', manifestKey: 'builds/x/manifest.json', sha256: 'ab'.repeat(32), size: 123, fileCount: 2,
};
const input = { functionName: 'orders-api', runtime: 'nodejs24.x' };
const outcome = (r: TransitionResult) => r.outcome;

describe('build job store (DynamoDB Local)', () => {
  let t: Awaited<ReturnType<typeof jobsTable>>;
  beforeAll(async () => { t = await jobsTable(); });
  afterAll(() => t.clients.ddb.destroy());

  test('happy path: awaiting_upload → queued → building → completed, one event per change', async () => {
    const { job, created } = await createJob({ ...input, webhookUrl: 'https://hooks.example.com/b' }, t.services);
    expect(created).toBe(true);
    expect(job).toMatchObject({
      status: 'awaiting_upload',
      version: 1,
      handler: 'index.handler',
      runtime: 'nodejs24.x',
      webhookUrl: 'https://hooks.example.com/b',
      createdAt: t.clock.now.toISOString(),
      uploadExpiresAt: new Date(t.clock.now.getTime() + DEFAULT_BUILD_JOB_SETTINGS.uploadWindowSeconds * 1000).toISOString(),
    });
    expect(job.jobId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(await getJob(job.jobId, t.services)).toEqual(job); // no table keys leak into the job

    const events: string[] = [];
    const q = await markQueued(job.jobId, t.services);
    const s = await startBuild(job.jobId, 'worker-a', t.services);
    const c = await completeBuild(job.jobId, 'worker-a', ARTIFACT, t.services);
    for (const r of [q, s, c]) if (r.outcome === 'changed' && r.event) events.push(r.event);
    expect(events).toEqual([BuildEvents.QUEUED, BuildEvents.STARTED, BuildEvents.COMPLETED]);

    const done = await getJob(job.jobId, t.services);
    expect(done).toMatchObject({
      status: 'completed',
      version: 4,
      attempts: 1,
      artifact: ARTIFACT,
      queuedAt: expect.any(String),
      startedAt: expect.any(String),
      finishedAt: expect.any(String),
    });
    expect(done).not.toHaveProperty('leaseOwner');
    expect(done).not.toHaveProperty('leaseExpiresAt');
    const raw = await t.rawItem(`JOB#${job.jobId}`, 'JOB');
    expect(raw).toMatchObject({ FN_PK: 'FUNCTION#orders-api', FN_SK: `${job.createdAt}#${job.jobId}` });
    expect(raw!.ttl).toBe(Math.floor(t.clock.now.getTime() / 1000) + DEFAULT_BUILD_JOB_SETTINGS.jobRetentionSeconds);
  });

  test('a job is in the awaiting-upload index until it leaves awaiting_upload (queued or expired)', async () => {
    const { job: uploaded } = await createJob(input, t.services);
    const { job: abandoned } = await createJob(input, t.services);
    const indexKeys = async (jobId: string) => {
      const raw = await t.rawItem(`JOB#${jobId}`, 'JOB');
      return { AW_PK: raw!.AW_PK, AW_SK: raw!.AW_SK };
    };
    expect(await indexKeys(uploaded.jobId)).toEqual({ AW_PK: 'AWAITING', AW_SK: `${uploaded.uploadExpiresAt}#${uploaded.jobId}` });
    await markQueued(uploaded.jobId, t.services);
    expect(await indexKeys(uploaded.jobId)).toEqual({ AW_PK: undefined, AW_SK: undefined });
    t.advance(DEFAULT_BUILD_JOB_SETTINGS.uploadWindowSeconds);
    expect(outcome(await expireUpload(abandoned.jobId, t.services))).toBe('changed');
    expect(await indexKeys(abandoned.jobId)).toEqual({ AW_PK: undefined, AW_SK: undefined });
  });

  test('a lease hand-off (worker → CodeBuild) moves who may finish the job, without an event', async () => {
    const { job } = await createJob({ ...input, runtime: 'container' }, t.services);
    await markQueued(job.jobId, t.services);
    await startBuild(job.jobId, 'worker-a', t.services);
    expect(outcome(await handOffLease(job.jobId, 'worker-b', 'codebuild:b-1', 3600, {}, t.services))).toBe('not_owner');
    const handed = await handOffLease(job.jobId, 'worker-a', 'codebuild:b-1', 3600, { containerBuildId: 'b-1' }, t.services);
    expect(handed).toMatchObject({ outcome: 'changed', job: { status: 'building', leaseOwner: 'codebuild:b-1', containerBuildId: 'b-1' } });
    expect(handed.outcome === 'changed' && handed.event).toBeFalsy();
    expect(outcome(await handOffLease(job.jobId, 'worker-a', 'codebuild:b-1', 3600, {}, t.services))).toBe('duplicate');
    expect(outcome(await completeBuild(job.jobId, 'worker-a', ARTIFACT, t.services))).toBe('not_owner');
    const image = { uri: '111111111111.dkr.ecr.us-east-1.amazonaws.com/builds:' + job.jobId };
    expect(await completeBuild(job.jobId, 'codebuild:b-1', ARTIFACT, t.services, image)).toMatchObject({ outcome: 'changed', job: { status: 'completed', image } });
  });

  test('every backwards or duplicate transition is a no-op (no write, no event)', async () => {
    const { job } = await createJob(input, t.services);
    const id = job.jobId;
    expect(outcome(await startBuild(id, 'w', t.services))).toBe('not_ready'); // before the upload
    expect(outcome(await completeBuild(id, 'w', ARTIFACT, t.services))).toBe('not_owner');
    expect(outcome(await markQueued(id, t.services))).toBe('changed');
    expect(outcome(await markQueued(id, t.services))).toBe('duplicate');
    expect(outcome(await expireUpload(id, t.services, new Date('2100-01-01T00:00:00Z')))).toBe('stale');
    expect(outcome(await startBuild(id, 'w', t.services))).toBe('changed');
    expect(outcome(await startBuild(id, 'w', t.services))).toBe('duplicate'); // same worker, same lease
    expect(outcome(await markQueued(id, t.services))).toBe('stale'); // a late queued after building
    const before = await getJob(id, t.services);
    expect(outcome(await completeBuild(id, 'w', ARTIFACT, t.services))).toBe('changed');
    const done = await getJob(id, t.services);

    const late = await Promise.all([
      markQueued(id, t.services),
      startBuild(id, 'w', t.services), // a redelivered message: never rebuilds
      startBuild(id, 'other', t.services),
      completeBuild(id, 'w', ARTIFACT, t.services),
      failBuild(id, 'w', { reason: 'CORRUPT_ARCHIVE', message: 'late' }, t.services),
      expireUpload(id, t.services, new Date('2100-01-01T00:00:00Z')),
    ]);
    expect(late.map(outcome)).toEqual(['stale', 'duplicate', 'duplicate', 'duplicate', 'stale', 'stale']);
    expect(late.every((r) => !('event' in r))).toBe(true);
    expect(await getJob(id, t.services)).toEqual(done);
    expect(done!.version).toBe(before!.version + 1);
    expect(outcome(await markQueued('no-such-job', t.services))).toBe('not_found');
  });

  test('failed is final too: no completion, restart or requeue after a failure', async () => {
    const { job } = await createJob(input, t.services);
    await markQueued(job.jobId, t.services);
    await startBuild(job.jobId, 'w', t.services);
    const f = await failBuild(job.jobId, 'w', { reason: 'NOT_A_ZIP', message: 'not a zip' }, t.services);
    expect(f).toMatchObject({ outcome: 'changed', event: BuildEvents.FAILED, job: { status: 'failed', failureReason: 'NOT_A_ZIP' } });
    const failed = await getJob(job.jobId, t.services);
    expect((await Promise.all([
      completeBuild(job.jobId, 'w', ARTIFACT, t.services), startBuild(job.jobId, 'w', t.services), markQueued(job.jobId, t.services),
      failBuild(job.jobId, 'w', { reason: 'NOT_A_ZIP', message: 'again' }, t.services),
    ])).map(outcome)).toEqual(['stale', 'duplicate', 'stale', 'duplicate']);
    expect(await getJob(job.jobId, t.services)).toEqual(failed);
  });

  test('10 concurrent starts: exactly one lease, one BuildStarted', async () => {
    const { job } = await createJob(input, t.services);
    await markQueued(job.jobId, t.services);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => startBuild(job.jobId, `worker-${i}`, t.services)));
    const winners = results.filter((r) => r.outcome === 'changed');
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'lease_held')).toHaveLength(9);
    expect(results.filter((r) => r.outcome === 'changed' && r.event === BuildEvents.STARTED)).toHaveLength(1);
    const owner = winners[0]!.outcome === 'changed' ? winners[0]!.job.leaseOwner : undefined;
    expect((await getJob(job.jobId, t.services))).toMatchObject({ status: 'building', leaseOwner: owner, attempts: 1 });
  });

  test('a crashed worker\'s lease expires: another takes over (no second BuildStarted); only the owner finishes', async () => {
    const { job } = await createJob(input, t.services);
    await markQueued(job.jobId, t.services);
    const first = await startBuild(job.jobId, 'crashed', t.services);
    expect(first.outcome).toBe('changed');
    const startedAt = (await getJob(job.jobId, t.services))!.startedAt;

    t.advance(DEFAULT_BUILD_JOB_SETTINGS.leaseSeconds - 1); // lease still valid
    expect(outcome(await startBuild(job.jobId, 'rescuer', t.services))).toBe('lease_held');
    expect(outcome(await completeBuild(job.jobId, 'rescuer', ARTIFACT, t.services))).toBe('not_owner');

    t.advance(1); // lease ends now
    const takeover = await startBuild(job.jobId, 'rescuer', t.services);
    expect(takeover).toMatchObject({ outcome: 'changed', takeover: true, from: 'building', job: { leaseOwner: 'rescuer', attempts: 2, startedAt } });
    expect(takeover).not.toHaveProperty('event');
    // The crashed worker wakes up: it no longer holds the lease.
    expect(outcome(await completeBuild(job.jobId, 'crashed', ARTIFACT, t.services))).toBe('not_owner');
    expect(outcome(await failBuild(job.jobId, 'crashed', { reason: 'INTERNAL_ERROR', message: 'x' }, t.services))).toBe('not_owner');
    expect(await completeBuild(job.jobId, 'rescuer', ARTIFACT, t.services)).toMatchObject({ outcome: 'changed', event: BuildEvents.COMPLETED });
  });

  test('the owner may still finish after its lease ran out if nobody took over', async () => {
    const { job } = await createJob(input, t.services);
    await markQueued(job.jobId, t.services);
    await startBuild(job.jobId, 'slow', t.services);
    t.advance(DEFAULT_BUILD_JOB_SETTINGS.leaseSeconds + 60);
    expect(outcome(await completeBuild(job.jobId, 'slow', ARTIFACT, t.services))).toBe('changed');
  });

  describe('Idempotency-Key', () => {
    test('same key, same body: the same job, created once', async () => {
      const key = uniqueName('key');
      const a = await createJob({ ...input, idempotencyKey: key }, t.services);
      const b = await createJob({ ...input, idempotencyKey: key }, t.services);
      expect(a.created).toBe(true);
      expect(b).toEqual({ job: a.job, created: false });
      // The replay returns the job as it is now, not as it was created.
      await markQueued(a.job.jobId, t.services);
      expect((await createJob({ ...input, idempotencyKey: key }, t.services)).job.status).toBe('queued');
    });

    test('same key, another body: IdempotencyKeyReusedError (422), nothing created', async () => {
      const key = uniqueName('key');
      const fn = uniqueName('fn');
      await createJob({ ...input, functionName: fn, idempotencyKey: key }, t.services);
      const err = await createJob({ ...input, functionName: fn, runtime: 'python3.13', idempotencyKey: key }, t.services).catch((e) => e);
      expect(err).toBeInstanceOf(IdempotencyKeyReusedError);
      expect(err).toMatchObject({ statusCode: 422, code: 'IDEMPOTENCY_KEY_REUSED', name: 'IdempotencyKeyReusedError' });
      await expect(createJob({ ...input, functionName: fn, handler: 'other.handler', idempotencyKey: key }, t.services)).rejects.toThrow(IdempotencyKeyReusedError);
      // An explicit default handler is the same body as none.
      expect((await createJob({ ...input, functionName: fn, handler: 'index.handler', idempotencyKey: key }, t.services)).created).toBe(false);
      expect((await listJobs(fn, {}, t.services)).jobs).toHaveLength(1);
    });

    test('10 concurrent creates with one key: one job', async () => {
      const key = uniqueName('key');
      const fn = uniqueName('fn');
      const results = await Promise.all(Array.from({ length: 10 }, () => createJob({ ...input, functionName: fn, idempotencyKey: key }, t.services)));
      expect(new Set(results.map((r) => r.job.jobId)).size).toBe(1);
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect((await listJobs(fn, {}, t.services)).jobs).toHaveLength(1);
    });

    test('a key past its window creates a new job', async () => {
      const key = uniqueName('key');
      const a = await createJob({ ...input, idempotencyKey: key }, t.services);
      t.advance(DEFAULT_BUILD_JOB_SETTINGS.idempotencyKeySeconds);
      const b = await createJob({ ...input, idempotencyKey: key }, t.services);
      expect(b.created).toBe(true);
      expect(b.job.jobId).not.toBe(a.job.jobId);
    });
  });

  test('creates validate their input', async () => {
    const bad = [
      { ...input, functionName: '../x' }, { ...input, runtime: 'java8' }, { ...input, runtime: 'toString' },
      { ...input, handler: 'no-function' }, { ...input, webhookUrl: 'http://example.com' }, { ...input, webhookUrl: 'not a url' },
      { ...input, idempotencyKey: '' }, { ...input, idempotencyKey: 'k'.repeat(256) },
    ];
    for (const b of bad) await expect(createJob(b, t.services)).rejects.toThrow(ValidationError);
    expect((await createJob({ functionName: 'f', runtime: 'provided.al2023' }, t.services)).job.handler).toBe('bootstrap');
  });

  test('listJobs: a function\'s builds newest first, paged, other functions apart', async () => {
    const fn = uniqueName('list');
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      t.advance(1);
      ids.push((await createJob({ ...input, functionName: fn }, t.services)).job.jobId);
    }
    await createJob({ ...input, functionName: `${fn}-other` }, t.services);
    const seen: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await listJobs(fn, { limit: 3, nextToken }, t.services);
      expect(page.jobs.length).toBeLessThanOrEqual(3);
      seen.push(...page.jobs.map((j) => j.jobId));
      expect(page.jobs.every((j) => !('FN_PK' in j) && !('PK' in j))).toBe(true);
      nextToken = page.nextToken;
      pages++;
    } while (nextToken && pages < 10);
    expect(seen).toEqual([...ids].reverse());
    expect(pages).toBeLessThanOrEqual(4);

    const first = await listJobs(fn, { limit: 2 }, t.services);
    await expect(listJobs(`${fn}-other`, { nextToken: first.nextToken }, t.services)).rejects.toThrow(ValidationError);
    await expect(listJobs(fn, { nextToken: 'garbage' }, t.services)).rejects.toThrow(ValidationError);
    await expect(listJobs(fn, { limit: 0 }, t.services)).rejects.toThrow(ValidationError);
    await expect(listJobs(fn, { limit: 101 }, t.services)).rejects.toThrow(ValidationError);
    expect(await listJobs('never-built', {}, t.services)).toEqual({ jobs: [] });
  });

  test('expireUpload: only an awaiting_upload job past uploadExpiresAt fails (UPLOAD_EXPIRED)', async () => {
    const { job } = await createJob(input, t.services);
    const expiresAt = new Date(job.uploadExpiresAt);
    expect(outcome(await expireUpload(job.jobId, t.services, new Date(expiresAt.getTime() - 1)))).toBe('not_ready');
    expect(await getJob(job.jobId, t.services)).toEqual(job);
    const r = await expireUpload(job.jobId, t.services, expiresAt);
    expect(r).toMatchObject({ outcome: 'changed', event: BuildEvents.FAILED, from: 'awaiting_upload', job: { status: 'failed', failureReason: 'UPLOAD_EXPIRED' } });
    expect(outcome(await expireUpload(job.jobId, t.services, expiresAt))).toBe('duplicate');
    expect(outcome(await markQueued(job.jobId, t.services))).toBe('stale'); // a late upload event

    for (const advance of [
      async (id: string) => { await markQueued(id, t.services); },
      async (id: string) => { await markQueued(id, t.services); await startBuild(id, 'w', t.services); },
      async (id: string) => { await markQueued(id, t.services); await startBuild(id, 'w', t.services); await completeBuild(id, 'w', ARTIFACT, t.services); },
    ]) {
      const other = (await createJob(input, t.services)).job;
      await advance(other.jobId);
      const before = await getJob(other.jobId, t.services);
      expect(outcome(await expireUpload(other.jobId, t.services, new Date('2100-01-01T00:00:00Z')))).toBe('stale');
      expect(await getJob(other.jobId, t.services)).toEqual(before);
    }
  });
});
