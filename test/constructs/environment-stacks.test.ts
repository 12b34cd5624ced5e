import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { snapshotOf } from './test-app';
import { EnvironmentStack, parseEnvironmentConfig } from '../../bin/stacks';

// The environments exactly as cdk.json defines them.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const environments = require('../../cdk.json').context.environments as Record<string, unknown>;

function environmentTemplate(name: string): Template {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new EnvironmentStack(app, `cdk-event-services-${name}`, { config: parseEnvironmentConfig(name, environments[name]) });
  return Template.fromStack(stack);
}

describe('environment stacks', () => {
  test.each(['dev', 'sit', 'prod'])('%s stack snapshot', (name) => {
    expect(snapshotOf(environmentTemplate(name))).toMatchSnapshot();
  });

  test('dev destroys its data, prod retains it and mails alarms', () => {
    const dev = environmentTemplate('dev');
    const prod = environmentTemplate('prod');
    expect(Object.values(dev.findResources('AWS::DynamoDB::Table')).every((t: any) => t.DeletionPolicy === 'Delete')).toBe(true);
    const prodTables = Object.values(prod.findResources('AWS::DynamoDB::Table')) as any[];
    expect(prodTables.some((t) => t.DeletionPolicy === 'Retain')).toBe(true);
    prod.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
    dev.resourceCountIs('AWS::SNS::Subscription', 2); // only the two change queues
  });

  test('throttle and log retention come from context', () => {
    const sit = environmentTemplate('sit');
    sit.hasResourceProperties('AWS::ApiGateway::UsagePlan', { Throttle: { RateLimit: 50, BurstLimit: 100 } });
    const groups = Object.values(sit.findResources('AWS::Logs::LogGroup')) as any[];
    expect(groups.every((g) => g.Properties.RetentionInDays === 90)).toBe(true);
  });

  test('bad context fails with a message naming the fix', () => {
    expect(() => parseEnvironmentConfig('qa', undefined)).toThrow(/add "environments"/);
    expect(() => parseEnvironmentConfig('qa', { removalPolicy: 'keep' })).toThrow(/'retain' or 'destroy'/);
    expect(() => parseEnvironmentConfig('qa', { logRetentionDays: 42 })).toThrow(/not a CloudWatch Logs retention/);
  });
});
