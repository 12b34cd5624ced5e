import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { snapshotOf } from './test-app';
import { createEnvironment, parseEnvironmentConfig } from '../../bin/stacks';

// The environments exactly as cdk.json defines them.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const environments = require('../../cdk.json').context.environments as Record<string, unknown>;

/** The services stack's template, or the function platform stack's. */
function environmentTemplate(name: string, which: 'services' | 'functions' = 'services'): Template {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stacks = createEnvironment(app, name, parseEnvironmentConfig(name, environments[name]));
  return Template.fromStack(stacks[which]);
}

describe('environment stacks', () => {
  test.each(['dev', 'sit', 'prod'])('%s stack snapshot', (name) => {
    expect(snapshotOf(environmentTemplate(name))).toMatchSnapshot();
  });

  test.each(['dev', 'sit', 'prod'])('%s function platform stack snapshot', (name) => {
    expect(snapshotOf(environmentTemplate(name, 'functions'))).toMatchSnapshot();
  });

  test('each environment\'s function platform deploys that environment\'s builds, under its own prefix, within 500 resources per stack', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const dev = createEnvironment(app, 'dev', parseEnvironmentConfig('dev', environments.dev));
    expect(dev.functions.functions.functionPrefix).toBe('ces-dev');
    expect(dev.functions.dependencies).toContain(dev.services);
    const functions = Template.fromStack(dev.functions);
    functions.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { 'source': ['cdk-event-services.build-pipeline'], 'detail-type': ['BuildCompleted'] },
      EventBusName: { 'Fn::ImportValue': Match.stringLikeRegexp('BuildsEventBus') },
    });
    for (const stack of [dev.services, dev.functions]) {
      expect(Object.keys(Template.fromStack(stack).toJSON().Resources).length).toBeLessThanOrEqual(500);
    }
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
    const groups = [sit, environmentTemplate('sit', 'functions')].flatMap((t) => Object.values(t.findResources('AWS::Logs::LogGroup')) as any[]);
    expect(groups.every((g) => g.Properties.RetentionInDays === 90)).toBe(true);
  });

  test('bad context fails with a message naming the fix', () => {
    expect(() => parseEnvironmentConfig('qa', undefined)).toThrow(/add "environments"/);
    expect(() => parseEnvironmentConfig('qa', { removalPolicy: 'keep' })).toThrow(/'retain' or 'destroy'/);
    expect(() => parseEnvironmentConfig('qa', { logRetentionDays: 42 })).toThrow(/not a CloudWatch Logs retention/);
    expect(() => parseEnvironmentConfig('qa', { removalPolicy: 'retain' })).toThrow(/environments\.qa\.functionPrefix is missing/);
  });
});
