#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { createEnvironment, parseEnvironmentConfig } from './stacks';

/**
 * Two stacks per environment from cdk.json context: the services, and the function platform
 * deploying the services' builds. `-c env=dev` synthesizes just that environment's two; without
 * it, every environment listed under `environments`.
 */
const app = new App();
const environments = app.node.tryGetContext('environments') as Record<string, unknown> | undefined;
if (!environments) throw new Error('cdk.json context has no "environments" block');
const only = app.node.tryGetContext('env') as string | undefined;
if (only && !(only in environments)) {
  throw new Error(`Unknown environment '${only}': choose one of ${Object.keys(environments).join(', ')}`);
}
for (const name of only ? [only] : Object.keys(environments)) {
  const config = parseEnvironmentConfig(name, environments[name]);
  createEnvironment(app, name, config, {
    env: config.account || config.region ? { account: config.account, region: config.region } : undefined,
    tags: { Environment: name, Application: 'cdk-event-services' },
  });
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
