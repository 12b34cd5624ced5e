/**
 * CodeBuild "Build State Change" → the container job's end. The worker handed the job's lease
 * to `codebuild:{buildId}` and recorded the deployment ZIP (`artifact`, the build's source) on
 * the job in the same write; only that build may finish the job, so an old build's event after
 * a takeover, or a redelivered event, changes nothing (the job store's conditional writes).
 */
import { completeBuild, failBuild, getJob, type JobStoreServices, type TransitionResult } from './job-store';
import {
  BuildJobFailureReason, ContainerBuildVariables, JOB_ID_PATTERN, containerLeaseOwner,
} from '../../lib/build-pipeline/contract';

/** CodeBuild's final build statuses; IN_PROGRESS (the start event) is ignored. */
const FAILED_STATUSES = new Set(['FAILED', 'FAULT', 'STOPPED', 'TIMED_OUT']);
export const SUCCEEDED = 'SUCCEEDED';
export const CODEBUILD_DETAIL_TYPE = 'CodeBuild Build State Change';

/** An image digest as `docker push` / ECR report it. */
const DIGEST = /^sha256:[0-9a-f]{64}$/;

export type BuildStateChange =
  | { readonly kind: 'finished'; readonly buildId: string; readonly jobId: string; readonly status: string; readonly digest?: string }
  | { readonly kind: 'ignored' | 'malformed'; readonly reason: string };

type NameValue = { name?: unknown; value?: unknown };
const valueOf = (list: unknown, name: string): unknown =>
  (Array.isArray(list) ? (list as NameValue[]).find((v) => v && v.name === name)?.value : undefined);

/** Reads what the handler needs from the event; anything unexpected is `malformed`, never thrown. */
export function readBuildStateChange(event: unknown): BuildStateChange {
  const e = event as { 'detail-type'?: unknown; 'detail'?: Record<string, any> } | undefined;
  if (e?.['detail-type'] !== CODEBUILD_DETAIL_TYPE || !e.detail || typeof e.detail !== 'object') {
    return { kind: 'malformed', reason: 'not a CodeBuild Build State Change event' };
  }
  const status = e.detail['build-status'];
  if (status !== SUCCEEDED && !FAILED_STATUSES.has(status)) return { kind: 'ignored', reason: `build status ${String(status)}` };
  // `build-id` is the build's ARN, `arn:aws:codebuild:{region}:{account}:build/{project}:{uuid}`;
  // StartBuild returned (and the lease names) the part after `build/`.
  const arn = e.detail['build-id'];
  const buildId = typeof arn === 'string' ? /^arn:[\w-]+:codebuild:[\w-]+:\d{12}:build\/([^/]+:[^/]+)$/.exec(arn)?.[1] : undefined;
  if (!buildId) return { kind: 'malformed', reason: `build-id is not a CodeBuild build ARN: ${String(arn).slice(0, 200)}` };
  const info = e.detail['additional-information'];
  const jobId = valueOf(info?.environment?.['environment-variables'], ContainerBuildVariables.JOB_ID);
  if (typeof jobId !== 'string' || !JOB_ID_PATTERN.test(jobId)) {
    return { kind: 'malformed', reason: `build ${buildId} has no valid ${ContainerBuildVariables.JOB_ID} variable` };
  }
  const digest = valueOf(info?.['exported-environment-variables'], ContainerBuildVariables.IMAGE_DIGEST);
  return { kind: 'finished', buildId, jobId, status, ...(typeof digest === 'string' && digest ? { digest } : {}) };
}

export interface ContainerServices extends JobStoreServices {
  /** The ECR repository the buildspec pushes `{repositoryUri}:{jobId}` to. */
  readonly repositoryUri: string;
}

export interface FinishReport {
  /** `changed`: the job completed or failed now; the others changed nothing (see TransitionResult). */
  readonly outcome: TransitionResult['outcome'];
  readonly status?: string;
  /** Why a SUCCEEDED build was not taken as is (a digest that is missing or not a digest). */
  readonly warning?: string;
}

export async function finishContainerBuild(change: Extract<BuildStateChange, { kind: 'finished' }>, services: ContainerServices): Promise<FinishReport> {
  const owner = containerLeaseOwner(change.buildId);
  if (change.status !== SUCCEEDED) {
    const r = await failBuild(change.jobId, owner, {
      reason: BuildJobFailureReason.CONTAINER_BUILD_FAILED,
      message: `CodeBuild build ${change.buildId} ended ${change.status}; see its logs`,
    }, services);
    return report(r);
  }
  const job = await getJob(change.jobId, services);
  if (!job) return { outcome: 'not_found' };
  if (!job.artifact) {
    // The worker records the artifact in the hand-off write itself, so the lease holder always has one;
    // without it the job could never complete: fail it (owner-checked) rather than leave it building.
    return report(await failBuild(change.jobId, owner, {
      reason: BuildJobFailureReason.INTERNAL_ERROR,
      message: `CodeBuild build ${change.buildId} succeeded, but the job has no artifact record; create a new build`,
    }, services));
  }
  const digestOk = change.digest !== undefined && DIGEST.test(change.digest);
  // The image is pushed by tag; a buildspec that did not export its digest still leaves a usable image.
  const image = { uri: `${services.repositoryUri}:${change.jobId}`, ...(digestOk ? { digest: change.digest } : {}) };
  const r = await completeBuild(change.jobId, owner, job.artifact, services, image);
  return { ...report(r), ...(digestOk ? {} : { warning: `${ContainerBuildVariables.IMAGE_DIGEST} missing or not a sha256 digest` }) };
}

const report = (r: TransitionResult): FinishReport =>
  ('job' in r ? { outcome: r.outcome, status: r.job.status } : { outcome: r.outcome });
