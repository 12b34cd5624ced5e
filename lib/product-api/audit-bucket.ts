import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/**
 * The audit trail: versioned, KMS-encrypted, TLS-only, never public, with Glacier after
 * `archiveAfter`; its server access logs go to a log bucket of its own.
 */
export function createAuditBucket(
  scope: Construct,
  key: kms.IKey,
  removalPolicy: RemovalPolicy,
  archiveAfter: Duration,
): s3.Bucket {
  const accessLogs = new s3.Bucket(scope, 'AuditAccessLogsBucket', {
    encryption: s3.BucketEncryption.S3_MANAGED, // S3 log delivery cannot write to SSE-KMS buckets
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
    lifecycleRules: [{ expiration: Duration.days(365) }],
    removalPolicy,
  });
  Validations.of(accessLogs).acknowledge({
    id: 'AwsSolutions-S1',
    reason: 'This is the access log bucket itself; logging it into itself would loop.',
  });
  return new s3.Bucket(scope, 'AuditBucket', {
    versioned: true,
    encryption: s3.BucketEncryption.KMS,
    encryptionKey: key,
    bucketKeyEnabled: true,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    serverAccessLogsBucket: accessLogs,
    serverAccessLogsPrefix: 'audit/',
    lifecycleRules: [
      { transitions: [{ storageClass: s3.StorageClass.GLACIER, transitionAfter: archiveAfter }] },
    ],
    removalPolicy,
  });
}
