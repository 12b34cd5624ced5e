import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeFindings, inBothRegulatoryPacks } from '../core/nag';

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
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
    // Versioned, so a deleted or overwritten log stays recoverable for 90 days.
    versioned: true,
    lifecycleRules: [{ expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(90) }],
    removalPolicy,
  });
  acknowledgeFindings(accessLogs, {
    ...inBothRegulatoryPacks('S3DefaultEncryptionKMS', 'S3 server access log delivery supports SSE-S3 only on its target bucket, not SSE-KMS; ' +
      'the logs are encrypted at rest with S3-managed keys.'),
  });
  const bucket = new s3.Bucket(scope, 'AuditBucket', {
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
  for (const b of [accessLogs, bucket]) {
    acknowledgeFindings(b, inBothRegulatoryPacks('S3BucketReplicationEnabled', 'Cross-region replication needs a bucket in another region, ' +
      'which a construct in one stack cannot create; the buckets are versioned and retained by default. Add a replication ' +
      'rule to your own bucket in another region if your policy asks for a second region.'));
  }
  return bucket;
}
