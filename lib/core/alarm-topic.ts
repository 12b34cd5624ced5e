import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { createServiceKey } from './encryption';

const CLOUDWATCH = new iam.ServicePrincipal('cloudwatch.amazonaws.com');

/**
 * Only alarms of this account and region may act through CloudWatch's service principal
 * (no confused deputy: another account's alarm cannot publish here). AWS documents both
 * keys for CloudWatch, on the topic policy and on the key policy alike.
 */
function alarmsOfThisAccount(scope: Construct): Record<string, Record<string, string>> {
  const stack = Stack.of(scope);
  return {
    StringEquals: { 'aws:SourceAccount': stack.account },
    ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
  };
}

/** Lets CloudWatch alarms of this account encrypt into a topic encrypted by `key` (nothing else). */
export function grantCloudWatchKeyUse(key: kms.IKey): void {
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'CloudWatchAlarmsPublishToEncryptedTopic',
    principals: [CLOUDWATCH],
    actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
    resources: ['*'],
    conditions: alarmsOfThisAccount(key),
  }));
}

/** Properties of an {@link AlarmTopic}. */
export interface AlarmTopicProps {
  /**
   * The key the topic is encrypted with. If you pass your own, its policy must let
   * `cloudwatch.amazonaws.com` use `kms:Decrypt` and `kms:GenerateDataKey*`; a key defined
   * in the same app gets that statement here.
   * @default a new customer-managed key with rotation
   */
  readonly masterKey?: kms.IKey;
}

/**
 * The encrypted, TLS-only topic and its key, with the statements that let this account's
 * alarms publish (a topic policy replaces SNS's default policy, so without that statement
 * every alarm would change state and notify no one).
 */
function createDeliverableTopic(scope: Construct, ids: { key: string; topic: string }, masterKey?: kms.IKey): { topic: sns.Topic; key: kms.IKey } {
  const key = masterKey ?? createServiceKey(scope, ids.key, 'alarm topic');
  grantCloudWatchKeyUse(key);
  const topic = new sns.Topic(scope, ids.topic, { masterKey: key, enforceSSL: true });
  topic.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'CloudWatchAlarmsPublish',
    principals: [CLOUDWATCH],
    actions: ['sns:Publish'],
    resources: [topic.topicArn],
    conditions: alarmsOfThisAccount(scope),
  }));
  return { topic, key };
}

/**
 * An SNS topic that CloudWatch alarms can actually publish to: KMS-encrypted, TLS only,
 * and a topic policy that allows `cloudwatch.amazonaws.com` to publish for alarms of this
 * account and region. (A topic policy replaces SNS's default policy, so without that
 * statement every alarm would change state and notify no one.) Share one between
 * constructs with their `alarmTopic` prop, and subscribe your on-call channel to it.
 */
export class AlarmTopic extends Construct {
  /** The topic; pass it as `alarmTopic`, subscribe to it. */
  public readonly topic: sns.Topic;
  /** The key the topic is encrypted with. */
  public readonly key: kms.IKey;

  constructor(scope: Construct, id: string, props: AlarmTopicProps = {}) {
    super(scope, id);
    ({ topic: this.topic, key: this.key } = createDeliverableTopic(this, { key: 'Key', topic: 'Topic' }, props.masterKey));
  }
}

/**
 * The topic a construct's alarms go to: the user's own, or one created here (same
 * resources as an {@link AlarmTopic}, under the construct ids earlier versions used, so an
 * upgrade keeps the topic and its subscriptions). A user's topic is the user's: its
 * policy is left alone (README says what it must allow), but when it is encrypted with a
 * key defined in this app, CloudWatch is let use that key, since alarms could not publish otherwise.
 */
export function resolveAlarmTopic(scope: Construct, topic?: sns.ITopic): sns.ITopic {
  if (!topic) return createDeliverableTopic(scope, { key: 'AlarmTopicKey', topic: 'AlarmTopic' }).topic;
  const key = (topic as sns.Topic).masterKey;
  if (key instanceof kms.Key) grantCloudWatchKeyUse(key);
  return topic;
}
