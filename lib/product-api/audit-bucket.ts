import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { createAccessLogsBucket } from '../core/access-logs-bucket';
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
  const accessLogs = createAccessLogsBucket(scope, 'AuditAccessLogsBucket', removalPolicy);
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
