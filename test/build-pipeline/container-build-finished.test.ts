import { jobsTable, type JobsTable } from './jobs-table';
import { createJob, getJob, handOffLease, markQueued, startBuild, type BuildArtifact } from '../../functions/build-pipeline/job-store';
import { ArtifactLayout, BuildPipelineEnv, ContainerBuildVariables, containerLeaseOwner } from '../../lib/build-pipeline/contract';
import { loadHandler, shippedBundle } from '../harness/bundle-handler';
import { configureHandlerEnv, fakeContext } from '../harness/local-aws';

const REPOSITORY = '111111111111.dkr.ecr.us-east-1.amazonaws.com/builds';
const DIGEST = `sha256:${'ab'.repeat(32)}`;
const PROJECT = 'build-pipeline-containers';

/** A CodeBuild "Build State Change" event as EventBridge delivers it (fields trimmed to what CodeBuild sends). */
function stateChange(buildId: string, status: string, jobId: string, exported: Array<{ name: string; value: string }> = []) {
  return {
    'version': '0',
    'id': 'c030038d-8c4d-6141-9545-00ff7b7153EX',
    'detail-type': 'CodeBuild Build State Change',
    'source': 'aws.codebuild',
    'account': '111111111111',
    'time': '2026-11-29T08:30:00Z',
    'region': 'us-east-1',
    'resources': [`arn:aws:codebuild:us-east-1:111111111111:build/${buildId}`],
    'detail': {
      'build-status': status,
      'project-name': PROJECT,
      'build-id': `arn:aws:codebuild:us-east-1:111111111111:build/${buildId}`,
      'additional-information': {
        'environment': {
          'image': 'aws/codebuild/amazonlinux2-aarch64-standard:3.0',
          'privileged-mode': true,
          'type': 'ARM_CONTAINER',
          'environment-variables': [{ name: ContainerBuildVariables.JOB_ID, type: 'PLAINTEXT', value: jobId }],
        },
        'timeout-in-minutes': 60,
        'build-complete': status !== 'IN_PROGRESS',
        'source': { type: 'S3', location: `artifacts/${ArtifactLayout.artifactKey(jobId)}` },
        'exported-environment-variables': exported,
      },
      'current-phase': 'COMPLETED',
      'version': '1',
    },
  };
}

/**
 * Container jobs driven by the job store to the point the worker leaves them (building, the
 * lease handed to `codebuild:{buildId}`, the deployment ZIP recorded), then the shipped bundle
 * gets CodeBuild's state-change events.
 */
describe('container build finished', () => {
  let t: JobsTable;
  let finished: (event: unknown, context: unknown) => Promise<any>;
  beforeAll(async () => {
    t = await jobsTable();
    configureHandlerEnv({ [BuildPipelineEnv.JOBS_TABLE_NAME]: t.tableName, [BuildPipelineEnv.CONTAINER_REPOSITORY_URI]: REPOSITORY });
    finished = loadHandler(shippedBundle('functions/build-pipeline/container-build-finished.ts'));
  });
  const invoke = (event: unknown) => finished(event, fakeContext('build-container'));

  /** A container job handed to build `{PROJECT}:{n}`, as the worker leaves it. */
  async function handedOff(buildNo = 1) {
    const { job } = await createJob({ functionName: 'images', runtime: 'container' }, t.services);
    const artifact: BuildArtifact = {
      bucket: 'artifacts', key: ArtifactLayout.artifactKey(job.jobId), manifestKey: ArtifactLayout.manifestKey(job.jobId), sha256: 'c'.repeat(64), size: 2048, fileCount: 2,
    };
    const buildId = `${PROJECT}:0000000${buildNo}-aaaa-bbbb-cccc-dddddddddddd`;
    await markQueued(job.jobId, t.services);
    await startBuild(job.jobId, 'worker-a', t.services);
    await handOffLease(job.jobId, 'worker-a', containerLeaseOwner(buildId), 4500, { containerBuildId: buildId, artifact }, t.services);
    return { jobId: job.jobId, buildId, artifact };
  }

  test('SUCCEEDED completes the job with the image uri and digest and the recorded artifact; a redelivery changes nothing', async () => {
    const { jobId, buildId, artifact } = await handedOff();
    const event = stateChange(buildId, 'SUCCEEDED', jobId, [{ name: ContainerBuildVariables.IMAGE_DIGEST, value: DIGEST }]);
    expect(await invoke(event)).toEqual({ outcome: 'changed', status: 'completed' });
    const job = await getJob(jobId, t.services);
    expect(job).toMatchObject({ status: 'completed', image: { uri: `${REPOSITORY}:${jobId}`, digest: DIGEST }, artifact, containerBuildId: buildId });
    expect(job).not.toHaveProperty('leaseOwner');

    expect(await invoke(event)).toEqual({ outcome: 'duplicate', status: 'completed' });
    expect((await getJob(jobId, t.services))?.version).toBe(job!.version);
  });

  test('SUCCEEDED without an exported digest completes with the tag only', async () => {
    const { jobId, buildId } = await handedOff();
    expect(await invoke(stateChange(buildId, 'SUCCEEDED', jobId, [{ name: ContainerBuildVariables.IMAGE_DIGEST, value: 'latest' }])))
      .toMatchObject({ outcome: 'changed', warning: expect.stringContaining('IMAGE_DIGEST') });
    expect((await getJob(jobId, t.services))?.image).toEqual({ uri: `${REPOSITORY}:${jobId}` });
  });

  test.each(['FAILED', 'FAULT', 'STOPPED', 'TIMED_OUT'])('%s fails the job with CONTAINER_BUILD_FAILED naming the build', async (status) => {
    const { jobId, buildId } = await handedOff();
    expect(await invoke(stateChange(buildId, status, jobId))).toEqual({ outcome: 'changed', status: 'failed' });
    expect(await getJob(jobId, t.services)).toMatchObject({
      status: 'failed', failureReason: 'CONTAINER_BUILD_FAILED', failureMessage: `CodeBuild build ${buildId} ended ${status}; see its logs`,
    });
  });

  test('a job handed off without an artifact record is failed (INTERNAL_ERROR), not left building', async () => {
    const { job } = await createJob({ functionName: 'images', runtime: 'container' }, t.services);
    const buildId = `${PROJECT}:00000009-aaaa-bbbb-cccc-dddddddddddd`;
    await markQueued(job.jobId, t.services);
    await startBuild(job.jobId, 'worker-a', t.services);
    await handOffLease(job.jobId, 'worker-a', containerLeaseOwner(buildId), 4500, { containerBuildId: buildId }, t.services);
    expect(await invoke(stateChange(buildId, 'SUCCEEDED', job.jobId))).toEqual({ outcome: 'changed', status: 'failed' });
    expect(await getJob(job.jobId, t.services)).toMatchObject({ failureReason: 'INTERNAL_ERROR', failureMessage: expect.stringContaining('no artifact record') });
  });

  test('IN_PROGRESS is ignored', async () => {
    const { jobId, buildId } = await handedOff();
    expect(await invoke(stateChange(buildId, 'IN_PROGRESS', jobId))).toEqual({ outcome: 'ignored' });
    expect((await getJob(jobId, t.services))?.status).toBe('building');
  });

  test('an old build after a takeover changes nothing; the build holding the lease finishes the job', async () => {
    const { jobId, buildId: oldBuild } = await handedOff(1);
    // the lease ran out (the clock is the store's), another worker took over and handed to a new build
    t.advance(4600);
    expect(await startBuild(jobId, 'worker-b', t.services)).toMatchObject({ outcome: 'changed', takeover: true });
    const newBuild = `${PROJECT}:00000002-aaaa-bbbb-cccc-dddddddddddd`;
    const artifact = (await getJob(jobId, t.services))!.artifact;
    await handOffLease(jobId, 'worker-b', containerLeaseOwner(newBuild), 4500, { containerBuildId: newBuild, artifact }, t.services);
    const before = await getJob(jobId, t.services);

    const digest = [{ name: ContainerBuildVariables.IMAGE_DIGEST, value: DIGEST }];
    expect(await invoke(stateChange(oldBuild, 'SUCCEEDED', jobId, digest))).toEqual({ outcome: 'not_owner', status: 'building' });
    expect(await invoke(stateChange(oldBuild, 'FAILED', jobId))).toEqual({ outcome: 'not_owner', status: 'building' });
    expect(await getJob(jobId, t.services)).toEqual(before);

    expect(await invoke(stateChange(newBuild, 'FAILED', jobId))).toEqual({ outcome: 'changed', status: 'failed' });
    // the old build's late event after the end: stale, nothing changes
    expect(await invoke(stateChange(oldBuild, 'SUCCEEDED', jobId, digest))).toEqual({ outcome: 'stale', status: 'failed' });
    expect((await getJob(jobId, t.services))?.failureMessage).toContain(newBuild);
  });

  test('malformed events are dropped without an error; an unknown job is reported', async () => {
    const { jobId, buildId } = await handedOff();
    const noJobVariable = stateChange(buildId, 'SUCCEEDED', jobId);
    noJobVariable.detail['additional-information'].environment['environment-variables'] = [];
    const badJobId = stateChange(buildId, 'FAILED', '../../etc');
    const badArn = { ...stateChange(buildId, 'FAILED', jobId), detail: { ...stateChange(buildId, 'FAILED', jobId).detail, 'build-id': 'not-an-arn' } };
    for (const event of [undefined, null, 'text', {}, { 'detail-type': 'CodeBuild Build State Change' }, { ...badArn, 'detail-type': 'Other' }, noJobVariable, badJobId, badArn]) {
      expect(await invoke(event)).toEqual({ outcome: 'malformed' });
    }
    expect((await getJob(jobId, t.services))?.status).toBe('building');
    expect(await invoke(stateChange(buildId, 'FAILED', '0f0f0f0f-0000-4000-8000-000000000000'))).toEqual({ outcome: 'not_found' });
  });
});
