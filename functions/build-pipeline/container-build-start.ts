import { StartBuildCommand, type CodeBuildClient } from '@aws-sdk/client-codebuild';
import { ContainerBuildVariables } from '../../lib/build-pipeline/contract';
import { deterministicUuid } from '../shared/deterministic-id';

export interface ContainerBuildRequest {
  readonly projectName: string;
  readonly jobId: string;
  /** The job's attempt (its lease count): a retry of one attempt starts no second build. */
  readonly attempt: number;
  /** The deployment ZIP, the build's source (its root holds the Dockerfile). */
  readonly sourceBucket: string;
  readonly sourceKey: string;
  readonly timeoutSeconds: number;
}

/** CodeBuild's timeoutInMinutesOverride range. */
const MIN_TIMEOUT_MINUTES = 5;
const MAX_TIMEOUT_MINUTES = 2160;

/**
 * Starts the container build of a job and returns its build id. The idempotency token is
 * derived from (jobId, attempt), so the SDK's own retries, or a worker retrying the same
 * attempt within CodeBuild's 5-minute token window, get the same build back.
 */
export async function startContainerBuild(codeBuild: CodeBuildClient, request: ContainerBuildRequest): Promise<string> {
  const minutes = Math.min(MAX_TIMEOUT_MINUTES, Math.max(MIN_TIMEOUT_MINUTES, Math.ceil(request.timeoutSeconds / 60)));
  const { build } = await codeBuild.send(new StartBuildCommand({
    projectName: request.projectName,
    sourceTypeOverride: 'S3',
    sourceLocationOverride: `${request.sourceBucket}/${request.sourceKey}`,
    environmentVariablesOverride: [{ name: ContainerBuildVariables.JOB_ID, value: request.jobId, type: 'PLAINTEXT' }],
    idempotencyToken: deterministicUuid(`container-build:${request.jobId}:${request.attempt}`),
    timeoutInMinutesOverride: minutes,
  }));
  if (!build?.id) throw new Error(`CodeBuild StartBuild for job ${request.jobId} returned no build id`);
  return build.id;
}
