import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { ArtifactSink, BuildManifest, ManifestFile } from './extract-logic';
import { normalizeEntryPath } from './zip-paths';
import { ArtifactLayout, JOB_ID_PATTERN } from '../../lib/build-pipeline/contract';

export interface S3ArtifactSinkProps {
  readonly s3: S3Client;
  readonly bucketName: string;
  readonly jobId: string;
}

/**
 * Writes a job's extracted files to `builds/{jobId}/files/…` and its manifest to
 * `builds/{jobId}/manifest.json`. It checks the job id and each path again (they are
 * checked upstream too) and refuses any key outside the job's prefix.
 */
export function s3ArtifactSink(props: S3ArtifactSinkProps): ArtifactSink & { readonly keys: string[] } {
  if (!JOB_ID_PATTERN.test(props.jobId)) throw new Error(`Invalid job id ${JSON.stringify(props.jobId)}`);
  const prefix = ArtifactLayout.prefix(props.jobId);
  const keys: string[] = [];
  const put = async (key: string, body: Buffer | string, contentType: string, metadata?: Record<string, string>) => {
    if (!key.startsWith(prefix)) throw new Error(`Refused key outside ${prefix}: ${key}`);
    await props.s3.send(new PutObjectCommand({ Bucket: props.bucketName, Key: key, Body: body, ContentType: contentType, Metadata: metadata }));
    keys.push(key);
  };
  return {
    keys,
    async putFile(path: string, bytes: Buffer, file: ManifestFile) {
      if (normalizeEntryPath(path, 1024).path !== path) throw new Error(`Refused a path that is not normalized: ${JSON.stringify(path)}`);
      await put(ArtifactLayout.fileKey(props.jobId, path), bytes, 'application/octet-stream', { sha256: file.sha256 });
    },
    async putManifest(manifest: BuildManifest) {
      await put(ArtifactLayout.manifestKey(props.jobId), JSON.stringify(manifest), 'application/json');
    },
  };
}
