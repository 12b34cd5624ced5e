import type { Readable } from 'node:stream';
import type { ContainerBuildRequest } from './container-build-start';
import { deploymentZip } from './deployment-zip';
import { BuildRejectedError, inspectAndExtract, type ArtifactSink, type BuildManifest, type ZipRangeSource } from './extract-logic';
import {
  completeBuild, failBuild, handOffLease, markQueued, startBuild,
  type BuildArtifact, type BuildJob, type JobStoreServices,
} from './job-store';
import { decodeS3Key, jobIdOfUploadKey, type UploadRecord } from './upload-notification';
import {
  ArtifactLayout, BuildJobFailureReason, BuildJobStatus, CONTAINER_BUILDS_DISABLED, CONTAINER_RUNTIME, containerLeaseOwner,
  BUILD_WORKER_MAX_RECEIVES, UploadLayout, type BuildJobSettings, type ZipLimits,
} from '../../lib/build-pipeline/contract';

/**
 * The build queue's maxReceiveCount (the contract's, which the construct sets). On this receive
 * a build that failed for a reason that is not the archive's fails the job (INTERNAL_ERROR)
 * instead of throwing, so the job never stays `building` once its message is in the DLQ.
 */
export const WORKER_MAX_RECEIVES = BUILD_WORKER_MAX_RECEIVES;

/** PutObjects in flight during extraction. */
export const WRITE_CONCURRENCY = 32;

/** Time kept back from the Lambda timeout to fail the job and answer the batch. */
export const DEADLINE_MARGIN_MS = 15_000;

export interface WorkerLog {
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

/** What the worker needs; the handler wires S3, DynamoDB and CodeBuild in, tests wire local engines. */
export interface BuildWorkerServices {
  readonly jobs: JobStoreServices;
  readonly uploadsBucket: string;
  readonly artifactsBucket: string;
  readonly limits: ZipLimits;
  readonly settings: BuildJobSettings;
  /** A CodeBuild project name, or CONTAINER_BUILDS_DISABLED. */
  readonly containerProject: string;
  readonly log: WorkerLog;
  /** The upload (in the uploads bucket) as ranges. */
  openUpload(key: string): Promise<ZipRangeSource>;
  /** Where a job's files and manifest go (under `builds/{jobId}/`). */
  artifactSink(jobId: string): ArtifactSink;
  /** Writes the deployment ZIP to the artifacts bucket. */
  putArtifactZip(key: string, body: Readable): Promise<{ readonly sha256: string; readonly size: number }>;
  startContainerBuild(request: ContainerBuildRequest): Promise<string>;
}

/** One delivery of a message. */
export interface Delivery {
  /** The lease owner of this attempt, unique per delivery (request id + message id). */
  readonly owner: string;
  /** SQS ApproximateReceiveCount. */
  readonly receiveCount: number;
  /** Time this record may use, ms (the Lambda's remaining time less a margin). */
  readonly budgetMs: number;
}

export type UploadOutcome =
  | 'ignored' | 'no_job' | 'already_done' | 'completed' | 'failed' | 'handed_off' | 'superseded';

/** Thrown so the message comes back later (another worker holds the job's lease). */
export class RetryLaterError extends Error {
  override readonly name: string = 'RetryLaterError';
}

const CODEBUILD_OWNER_PREFIX = containerLeaseOwner('');

class BuildDeadlineError extends Error {
  override readonly name: string = 'BuildDeadlineError';
}

/**
 * One S3 notification record. Keys other than `uploads/{jobId}.zip` in the uploads bucket
 * are acknowledged with a warning and never built. The job is moved queued → building
 * under a lease; a finished job is never rebuilt. Returns what happened; throws to have
 * the message retried.
 */
export async function handleUploadRecord(record: UploadRecord, delivery: Delivery, services: BuildWorkerServices): Promise<UploadOutcome> {
  const { log } = services;
  const key = decodeS3Key(record.s3.object.key);
  const jobId = key === undefined ? undefined : jobIdOfUploadKey(key);
  if (!record.eventName.startsWith('ObjectCreated:') || record.s3.bucket.name !== services.uploadsBucket || jobId === undefined) {
    log.warn('Notification ignored: not an upload of a job', { eventName: record.eventName, bucket: record.s3.bucket.name, key: record.s3.object.key });
    return 'ignored';
  }

  const queued = await markQueued(jobId, services.jobs);
  // A job id with no job: gone by TTL, or an object put by hand. Nothing can be built; a retry would not change that.
  if (queued.outcome === 'not_found') {
    log.warn('Upload of an unknown job ignored', { jobId });
    return 'no_job';
  }
  const started = await startBuild(jobId, delivery.owner, services.jobs);
  switch (started.outcome) {
    case 'not_found':
      log.warn('Upload of an unknown job ignored', { jobId });
      return 'no_job';
    case 'lease_held':
      // Handed to CodeBuild: the state-change handler finishes it; this delivery is a duplicate.
      if (started.job.leaseOwner?.startsWith(CODEBUILD_OWNER_PREFIX)) return 'already_done';
      // Another delivery is building it; if that worker died, its lease runs out and a later receive takes over.
      throw new RetryLaterError(`Job ${jobId} is being built by another worker (lease until ${started.job.leaseExpiresAt})`);
    case 'not_ready':
      // Cannot follow a markQueued that found the job (statuses never go back); retried in case of a store defect.
      throw new RetryLaterError(`Job ${jobId} is ${started.job.status}, not queued`);
    case 'duplicate':
    case 'stale':
    case 'not_owner':
      // Completed or failed (a redelivery, a second upload): never rebuilt. Or this very delivery's own lease.
      log.info('Job already built or building; nothing to do', { jobId, status: started.job.status });
      return 'already_done';
    case 'changed':
      if (started.takeover) log.warn('Took over a job whose worker lease expired', { jobId, attempts: started.job.attempts });
      return buildLeased(started.job, delivery, services);
  }
}

async function buildLeased(job: BuildJob, delivery: Delivery, services: BuildWorkerServices): Promise<UploadOutcome> {
  const { log } = services;
  const fail = async (reason: (typeof BuildJobFailureReason)[keyof typeof BuildJobFailureReason], message: string) => {
    const r = await failBuild(job.jobId, delivery.owner, { reason, message }, services.jobs);
    if (r.outcome === 'not_owner') {
      log.warn('Another worker took the job over; its result stands', { jobId: job.jobId });
      return 'superseded' as const;
    }
    log.info('Build failed', { jobId: job.jobId, reason, outcome: r.outcome });
    return 'failed' as const;
  };

  const isContainer = job.runtime === CONTAINER_RUNTIME;
  // Checked first, so a refused job leaves nothing under its prefix (the create API refuses it too).
  if (isContainer && services.containerProject === CONTAINER_BUILDS_DISABLED) {
    return fail(BuildJobFailureReason.CONTAINER_BUILDS_DISABLED, 'This pipeline has no container builds; use a ZIP runtime or enable containerBuilds.');
  }

  const deadline = { passed: false };
  let timer: NodeJS.Timeout | undefined;
  try {
    const artifact = await Promise.race([
      extractAndPackage(job, services, deadline),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          deadline.passed = true;
          reject(new BuildDeadlineError(`The build of job ${job.jobId} did not finish in ${delivery.budgetMs} ms`));
        }, Math.max(0, delivery.budgetMs));
      }),
    ]);
    clearTimeout(timer);
    if (isContainer) return await handOffToCodeBuild(job, artifact, delivery, services);
    const done = await completeBuild(job.jobId, delivery.owner, artifact, services.jobs);
    if (done.outcome === 'not_owner') {
      log.warn('Another worker took the job over; its result stands', { jobId: job.jobId });
      return 'superseded';
    }
    log.info('Build completed', { jobId: job.jobId, fileCount: artifact.fileCount, size: artifact.size });
    return 'completed';
  } catch (error) {
    clearTimeout(timer);
    if (error instanceof BuildRejectedError) return fail(error.reason, error.message);
    if (delivery.receiveCount >= WORKER_MAX_RECEIVES) {
      log.error('Build failed on its last delivery; the job fails', { jobId: job.jobId, receiveCount: delivery.receiveCount, error: error as Error });
      return fail(BuildJobFailureReason.INTERNAL_ERROR,
        `The build failed ${delivery.receiveCount} times for a reason that is not the archive's; create a new build. Reference: job ${job.jobId}.`);
    }
    throw error;
  }
}

/** Extraction, then the deployment ZIP, then the manifest: its presence marks a complete build. */
async function extractAndPackage(job: BuildJob, services: BuildWorkerServices, deadline: { passed: boolean }): Promise<BuildArtifact> {
  const source = await services.openUpload(UploadLayout.key(job.jobId));
  const inner = services.artifactSink(job.jobId);
  const key = ArtifactLayout.artifactKey(job.jobId);
  let zip: { sha256: string; size: number } | undefined;
  // A build past its deadline stops writing (its promise is abandoned, not cancelled).
  const live = () => { if (deadline.passed) throw new BuildDeadlineError('Build abandoned at its deadline'); };
  const sink: ArtifactSink = {
    async putFile(path, bytes, file) {
      live();
      await inner.putFile(path, bytes, file);
    },
    async putManifest(manifest: BuildManifest) {
      live();
      zip = await services.putArtifactZip(key, await deploymentZip(source, manifest, services.limits.maxPathBytes));
      live();
      await inner.putManifest(manifest);
    },
  };
  const manifest = await inspectAndExtract(source, { runtime: job.runtime, handler: job.handler }, sink, {
    limits: services.limits,
    // One PutObject per file is latency-bound (~20-50 ms each): 32 in flight keep 5,000 small files to seconds.
    // Memory stays bounded by writeBufferBytes (32 MiB of inflated bytes in flight, at least one entry).
    writeConcurrency: WRITE_CONCURRENCY,
  });
  return {
    bucket: services.artifactsBucket,
    key,
    manifestKey: ArtifactLayout.manifestKey(job.jobId),
    sha256: zip!.sha256,
    size: zip!.size,
    fileCount: manifest.fileCount,
  };
}

/**
 * Starts the CodeBuild build of a container job and hands the job's lease to it for the
 * build's timeout plus 15 minutes; the state-change handler completes or fails the job.
 * The artifact is recorded on the job for that handler.
 */
async function handOffToCodeBuild(job: BuildJob, artifact: BuildArtifact, delivery: Delivery, services: BuildWorkerServices): Promise<UploadOutcome> {
  const timeoutSeconds = services.settings.containerBuildTimeoutSeconds;
  const buildId = await services.startContainerBuild({
    projectName: services.containerProject,
    jobId: job.jobId,
    attempt: job.attempts ?? 1,
    sourceBucket: artifact.bucket,
    sourceKey: artifact.key,
    timeoutSeconds,
  });
  const r = await handOffLease(
    job.jobId, delivery.owner, containerLeaseOwner(buildId), timeoutSeconds + 900, { containerBuildId: buildId, artifact }, services.jobs,
  );
  if (r.outcome === 'not_owner') {
    services.log.warn('Another worker took the job over before the hand-off; its build stands', { jobId: job.jobId, buildId });
    return 'superseded';
  }
  services.log.info('Container build started', { jobId: job.jobId, buildId, outcome: r.outcome, status: BuildJobStatus.BUILDING });
  return 'handed_off';
}
