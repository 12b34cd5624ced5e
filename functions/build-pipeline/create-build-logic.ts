/**
 * POST /v1.0/builds: validate the request, create the job (Idempotency-Key in the same
 * transaction), answer with a presigned POST that lets exactly this job's archive in.
 */
import * as z from 'zod/mini';
import { createJob, type BuildJob, type JobStoreServices } from './job-store';
import { uploadPolicy, type UploadPolicy, type UploadPolicyServices } from './upload-policy';
import {
  BuildJobFailureReason, BuildJobStatus, CONTAINER_BUILDS_DISABLED, CONTAINER_RUNTIME, RUNTIME_HANDLER_RULES,
} from '../../lib/build-pipeline/contract';
import { HttpError } from '../shared/errors';

/**
 * The body's shape: unknown fields refused, types and lengths checked here with field-named
 * messages; the job store checks the patterns (name, handler, https URL) as the one authority.
 */
export const createBuildSchema = z.strictObject({
  functionName: z.string().check(z.minLength(1), z.maxLength(64)),
  runtime: z.enum(Object.keys(RUNTIME_HANDLER_RULES) as [string, ...string[]]),
  // HANDLER_SETTING_PATTERN's longest: 120 (module) + '.' + 64 (function).
  handler: z.optional(z.string().check(z.minLength(1), z.maxLength(185))),
  webhookUrl: z.optional(z.string().check(z.minLength(1), z.maxLength(2048))),
});
export type CreateBuildRequest = z.infer<typeof createBuildSchema>;

export interface CreateBuildServices {
  readonly jobs: JobStoreServices;
  readonly uploads: UploadPolicyServices;
  readonly maxUploadBytes: number;
  /** CONTAINER_BUILD_PROJECT: a project name, or CONTAINER_BUILDS_DISABLED. */
  readonly containerBuildProject: string;
}

export interface CreateBuildResponse {
  readonly jobId: string;
  readonly status: string;
  /** Present while the job waits for its archive and the window is open. */
  readonly upload?: UploadPolicy;
  readonly links: { readonly self: string };
}

export class ContainerBuildsDisabledError extends HttpError {
  override readonly name: string = 'ContainerBuildsDisabledError';
  constructor() {
    super(422, BuildJobFailureReason.CONTAINER_BUILDS_DISABLED, "Container builds are not enabled on this pipeline: use a ZIP runtime, or enable 'containerBuilds' on the construct");
  }
}

export const buildLink = (jobId: string) => `/v1.0/builds/${jobId}`;

/**
 * Creates the job (or replays the one an Idempotency-Key made) and presigns its upload. A
 * replay gets a fresh POST for the same key while the job still waits and its window is open
 * (the first one may have been lost with the response); otherwise it gets the job's status.
 */
export async function createBuild(
  request: CreateBuildRequest,
  meta: { readonly idempotencyKey?: string; readonly correlationId: string },
  services: CreateBuildServices,
): Promise<{ response: CreateBuildResponse; created: boolean }> {
  // Refused before any write: the worker would only fail it later, after the upload.
  if (request.runtime === CONTAINER_RUNTIME && services.containerBuildProject === CONTAINER_BUILDS_DISABLED) {
    throw new ContainerBuildsDisabledError();
  }
  const { job, created } = await createJob({ ...request, idempotencyKey: meta.idempotencyKey, correlationId: meta.correlationId }, services.jobs);
  return { response: { ...(await uploadFor(job, services)), links: { self: buildLink(job.jobId) } }, created };
}

async function uploadFor(job: BuildJob, services: CreateBuildServices): Promise<Pick<CreateBuildResponse, 'jobId' | 'status' | 'upload'>> {
  const open = job.status === BuildJobStatus.AWAITING_UPLOAD && Date.parse(job.uploadExpiresAt) - services.uploads.now().getTime() >= 1000;
  if (!open) return { jobId: job.jobId, status: job.status };
  const upload = await uploadPolicy(job.jobId, { maxUploadBytes: services.maxUploadBytes, expiresAt: job.uploadExpiresAt }, services.uploads);
  return { jobId: job.jobId, status: job.status, upload };
}
