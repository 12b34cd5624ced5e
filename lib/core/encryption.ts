import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeFindings, inBothRegulatoryPacks } from './nag';

/** A customer-managed key with rotation on, for one resource of a construct. */
export function createServiceKey(scope: Construct, id: string, purpose: string): kms.Key {
  return new kms.Key(scope, id, {
    description: `${scope.node.path}: ${purpose}`,
    enableKeyRotation: true,
    // Keys outlive the data they protect: a destroyed key makes backups unreadable.
    removalPolicy: RemovalPolicy.RETAIN,
  });
}

/**
 * Lets CloudWatch Logs use `key` for log groups of this account and region (the policy
 * AWS documents: the encryption context names the log group). Granted on the key once.
 */
export function grantLogsKeyUse(key: kms.IKey): void {
  const stack = Stack.of(key);
  const logsKeys = key as kms.IKey & { [LOGS_GRANTED]?: true };
  if (logsKeys[LOGS_GRANTED]) return;
  logsKeys[LOGS_GRANTED] = true;
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'CloudWatchLogsEncryptLogGroups',
    principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
    actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
    resources: ['*'],
    conditions: {
      ArnLike: {
        'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
          service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      },
    },
  }));
}
const LOGS_GRANTED = Symbol('logsKeyGranted');

/**
 * A log group of the library: its retention, and the user's key when one is given
 * (`logEncryptionKey`; off by default: a key costs per month and per request, and the logs
 * hold ids and outcomes, never payloads). Without a key, CloudWatch Logs encrypts with its own.
 */
export function createLogGroup(scope: Construct, id: string, options: { retention: logs.RetentionDays; encryptionKey?: kms.IKey }): logs.LogGroup {
  if (options.encryptionKey) grantLogsKeyUse(options.encryptionKey);
  const group = new logs.LogGroup(scope, id, { retention: options.retention, encryptionKey: options.encryptionKey });
  if (!options.encryptionKey) {
    acknowledgeFindings(group, inBothRegulatoryPacks('CloudWatchLogGroupEncrypted',
      'Encrypted at rest with CloudWatch Logs\' own keys; the handlers log ids and outcomes, not payloads. ' +
      'A customer-managed key is opt-in (`logEncryptionKey`), since it costs per month and per request.'));
  }
  return group;
}

/**
 * Lets a service (EventBridge, SNS, S3) use `key` when it sends into this account's queues
 * encrypted with it. The queues' ARNs cannot be named (each queue names the key: a cycle), so
 * the statement is bound to SQS (`kms:ViaService`) and to queues of this account (the encryption
 * context SQS sets); each queue's own policy names the rule, topic or bucket that may send.
 * Nothing is added to an imported key (its policy is its owner's).
 */
export function allowServiceIntoQueues(scope: Construct, key: kms.IKey, sid: string, service: string): void {
  if (!(key instanceof kms.Key)) return;
  // The queues' stack: the encryption context names queues of the construct's account and region.
  const stack = Stack.of(scope);
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid,
    principals: [new iam.ServicePrincipal(service)],
    actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
    resources: ['*'],
    conditions: {
      StringEquals: { 'kms:ViaService': `sqs.${stack.region}.amazonaws.com` },
      StringLike: { 'kms:EncryptionContext:aws:sqs:arn': `arn:${stack.partition}:sqs:${stack.region}:${stack.account}:*` },
    },
  }));
}
