import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { createServiceKey } from './encryption';

/**
 * The SNS topic alarms go to: the user's own, or an encrypted, TLS-only one created here.
 * CloudWatch publishes alarms to it, so CloudWatch may use its key.
 */
export function resolveAlarmTopic(scope: Construct, topic?: sns.ITopic): sns.ITopic {
  if (topic) return topic;
  const key = createServiceKey(scope, 'AlarmTopicKey', 'alarm topic');
  key.grantEncryptDecrypt(new iam.ServicePrincipal('cloudwatch.amazonaws.com'));
  return new sns.Topic(scope, 'AlarmTopic', { masterKey: key, enforceSSL: true });
}
