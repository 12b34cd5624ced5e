import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeFindings, inBothRegulatoryPacks } from './nag';

/**
 * A bucket for S3 server access logs: TLS only, never public, versioned (a deleted or
 * overwritten log stays recoverable for 90 days), logs kept a year. SSE-S3, because log
 * delivery cannot write to an SSE-KMS target; the nag finding says so.
 */
export function createAccessLogsBucket(scope: Construct, id: string, removalPolicy: RemovalPolicy): s3.Bucket {
  const accessLogs = new s3.Bucket(scope, id, {
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
    versioned: true,
    lifecycleRules: [{ expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(90) }],
    removalPolicy,
  });
  acknowledgeFindings(accessLogs, {
    ...inBothRegulatoryPacks('S3DefaultEncryptionKMS', 'S3 server access log delivery supports SSE-S3 only on its target bucket, not SSE-KMS; ' +
      'the logs are encrypted at rest with S3-managed keys.'),
  });
  return accessLogs;
}
