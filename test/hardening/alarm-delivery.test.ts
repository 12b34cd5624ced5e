import { App, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { allowsService, asArray, ENVIRONMENTS, environmentResources, referencedId, Resources, resourcesOf } from './template-walk';
import { BuildPipeline, EnrollmentSaga, PaymentOutbox, ProductApi } from '../../lib';

/**
 * Can an alarm reach a human? For every alarm action in a template: the topic's policy
 * must let CloudWatch publish (a topic policy replaces SNS's default one), scoped to this
 * account's alarms, and the topic's key must let CloudWatch use it.
 */
function undeliverableAlarmActions(resources: Resources): string[] {
  const problems: string[] = [];
  const alarms = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm');
  expect(alarms.length).toBeGreaterThan(0);
  for (const [alarmId, alarm] of alarms) {
    for (const action of [...asArray(alarm.Properties.AlarmActions), ...asArray(alarm.Properties.OKActions)]) {
      const topicId = referencedId(action);
      const topic = topicId ? resources[topicId] : undefined;
      if (!topicId || topic?.Type !== 'AWS::SNS::Topic') {
        problems.push(`${alarmId}: action ${JSON.stringify(action)} is not a topic of this stack`);
        continue;
      }
      const policies = Object.values(resources).filter((r) =>
        r.Type === 'AWS::SNS::TopicPolicy' && asArray(r.Properties.Topics).some((t) => referencedId(t) === topicId));
      const publish = policies.flatMap((p) => allowsService(p.Properties.PolicyDocument, 'cloudwatch.amazonaws.com', 'sns:Publish'));
      if (policies.length > 0 && publish.length === 0) problems.push(`${alarmId}: topic ${topicId}'s policy lets CloudWatch publish nothing`);
      for (const s of publish) {
        if (!s.Condition?.StringEquals?.['aws:SourceAccount'] || !s.Condition?.ArnLike?.['aws:SourceArn']) {
          problems.push(`${alarmId}: topic ${topicId} lets CloudWatch publish without aws:SourceAccount / aws:SourceArn`);
        }
      }
      const keyId = referencedId(topic.Properties?.KmsMasterKeyId);
      if (!keyId) continue;
      const keyPolicy = resources[keyId]?.Properties?.KeyPolicy;
      for (const keyAction of ['kms:GenerateDataKey', 'kms:Decrypt']) {
        const grants = allowsService(keyPolicy, 'cloudwatch.amazonaws.com', keyAction);
        if (grants.length === 0) problems.push(`${alarmId}: key ${keyId} of topic ${topicId} does not let CloudWatch ${keyAction}`);
        if (grants.some((s) => !s.Condition?.StringEquals?.['aws:SourceAccount'])) problems.push(`${alarmId}: key ${keyId} grants CloudWatch ${keyAction} unscoped`);
      }
    }
  }
  return [...new Set(problems)];
}

describe('every alarm can notify someone', () => {
  test.each(ENVIRONMENTS)('%s stack: topic policy and key let CloudWatch publish every alarm', (name) => {
    expect(undeliverableAlarmActions(environmentResources(name))).toEqual([]);
  });

  test.each([
    ['ProductApi', (s: Stack) => new ProductApi(s, 'Products')],
    ['PaymentOutbox', (s: Stack) => new PaymentOutbox(s, 'Payments')],
    ['EnrollmentSaga', (s: Stack) => new EnrollmentSaga(s, 'Enrollment', { eventBus: new events.EventBus(s, 'Bus') })],
    ['BuildPipeline', (s: Stack) => new BuildPipeline(s, 'Builds', { containerBuilds: true })],
  ])('%s alone, with the topic it creates', (_, create) => {
    const stack = new Stack(new App(), 'Alone', { env: { account: '111111111111', region: 'eu-west-1' } });
    create(stack);
    expect(undeliverableAlarmActions(resourcesOf(stack))).toEqual([]);
  });

  test('a user topic encrypted with a key of the app: CloudWatch may use the key; the topic policy stays the user\'s', () => {
    const stack = new Stack(new App(), 'Own', { env: { account: '111111111111', region: 'eu-west-1' } });
    const topic = new sns.Topic(stack, 'OnCall', { masterKey: new kms.Key(stack, 'OnCallKey') });
    new ProductApi(stack, 'Products', { alarmTopic: topic });
    const resources = resourcesOf(stack);
    expect(undeliverableAlarmActions(resources)).toEqual([]);
    const onCallId = stack.getLogicalId(topic.node.defaultChild as any);
    const policiesOfOnCall = Object.values(resources).filter((r) =>
      r.Type === 'AWS::SNS::TopicPolicy' && asArray(r.Properties.Topics).some((t) => referencedId(t) === onCallId));
    expect(policiesOfOnCall).toHaveLength(0);
  });
});
