import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, IConstruct } from 'constructs';
import { ArtifactLayout, UploadLayout } from './contract';
import { createAccessLogsBucket } from '../core/access-logs-bucket';
import { acknowledgeFindings, inBothRegulatoryPacks } from '../core/nag';

export interface BuildBuckets {
  readonly uploads: s3.Bucket;
  readonly artifacts: s3.Bucket;
  readonly accessLogs: s3.Bucket;
}

/**
 * The uploads bucket (one presigned-POST archive per job, deleted after a day) and the
 * artifacts bucket (`builds/{jobId}/…`, expired after `artifactRetention`): KMS-encrypted,
 * TLS only, never public, server access logs to a log bucket of their own.
 */
export function createBuildBuckets(scope: Construct, key: kms.IKey, removalPolicy: RemovalPolicy, artifactRetention: Duration): BuildBuckets {
  const accessLogs = createAccessLogsBucket(scope, 'AccessLogsBucket', removalPolicy);
  const common = {
    encryption: s3.BucketEncryption.KMS,
    encryptionKey: key,
    bucketKeyEnabled: true,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    serverAccessLogsBucket: accessLogs,
    removalPolicy,
  };
  const uploads = new s3.Bucket(scope, 'UploadsBucket', {
    ...common,
    serverAccessLogsPrefix: 'uploads/',
    lifecycleRules: [{
      id: 'DeleteUploads',
      prefix: UploadLayout.PREFIX,
      // The worker reads an archive within minutes; a day covers retries and the DLQ redrive.
      expiration: Duration.days(1),
      abortIncompleteMultipartUploadAfter: Duration.days(1),
    }],
  });
  const artifacts = new s3.Bucket(scope, 'ArtifactsBucket', {
    ...common,
    serverAccessLogsPrefix: 'artifacts/',
    lifecycleRules: [{
      id: 'ExpireBuilds',
      prefix: `${ArtifactLayout.ROOT}/`,
      expiration: artifactRetention,
      abortIncompleteMultipartUploadAfter: Duration.days(1),
    }],
  });
  for (const b of [uploads, artifacts]) {
    acknowledgeFindings(b, inBothRegulatoryPacks('S3BucketVersioningEnabled', b === uploads
      ? 'Each job has exactly one upload key, written once by its presigned POST and deleted after a day: there is no ' +
        'earlier version worth keeping, and versions would keep every archive past its lifecycle.'
      : 'A build writes its artifacts once under its own job id and never overwrites them (a rebuild is a new job, a new ' +
        'prefix); the jobs table records each artifact\'s SHA-256, so a version history would only keep expired builds.'));
  }
  for (const b of [accessLogs, uploads, artifacts]) {
    acknowledgeFindings(b, inBothRegulatoryPacks('S3BucketReplicationEnabled', 'Cross-region replication needs a bucket in another region, ' +
      'which a construct in one stack cannot create; uploads live a day, and artifacts are rebuilt from their source by a new job. ' +
      'Add a replication rule if your policy asks for a second region.'));
  }
  return { uploads, artifacts, accessLogs };
}

/**
 * S3 → SQS notification target whose statements name this bucket only: the queue policy
 * lets `s3.amazonaws.com` send for this bucket and account (aws:SourceArn, aws:SourceAccount),
 * and the key lets S3 encrypt into SQS only through SQS (kms:ViaService) for queues of this
 * account. CDK's SqsDestination gives S3 the key with no condition and the queue key's
 * encrypt/re-encrypt actions.
 */
export class ScopedQueueDestination implements s3.IBucketNotificationDestination {
  constructor(private readonly queue: sqs.IQueue, private readonly key: kms.IKey) {}

  public bind(_scope: Construct, bucket: s3.IBucket): s3.BucketNotificationDestinationConfig {
    const stack = Stack.of(bucket);
    const s3Principal = new iam.ServicePrincipal('s3.amazonaws.com');
    this.queue.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'UploadsBucketNotifications',
      principals: [s3Principal],
      actions: ['sqs:SendMessage'],
      resources: [this.queue.queueArn],
      conditions: { ArnEquals: { 'aws:SourceArn': bucket.bucketArn }, StringEquals: { 'aws:SourceAccount': stack.account } },
    }));
    this.key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'S3NotificationsIntoThisConstructsQueue',
      principals: [s3Principal],
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resources: ['*'],
      conditions: {
        StringEquals: { 'kms:ViaService': `sqs.${stack.region}.amazonaws.com` },
        // The queue's ARN cannot be named (the queue names the key: a cycle); queues of this account only.
        StringLike: { 'kms:EncryptionContext:aws:sqs:arn': `arn:${stack.partition}:sqs:${stack.region}:${stack.account}:*` },
      },
    }));
    return { arn: this.queue.queueArn, type: s3.BucketNotificationDestinationType.QUEUE, dependencies: [this.queue as unknown as IConstruct] };
  }
}
