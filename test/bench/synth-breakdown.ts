import { App, CloudFormationValidatePlugin, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { createEnvironment, parseEnvironmentConfig } from '../../bin/stacks';

/**
 * Run in a fresh process by the bench: synthesizes the example app's stacks (two per environment) in
 * process and prints where the time goes as JSON: building the construct tree, cdk-nag,
 * CDK's own template validation (its default rules), and the rest of synthesis.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const environments = require('../../cdk.json').context.environments as Record<string, unknown>;

function build(options: { nag: boolean; cdkRules: boolean }): { app: App; buildMs: number } {
  const started = performance.now();
  const app = new App({ outdir: `${__dirname}/.out/breakdown-${process.pid}` });
  for (const name of Object.keys(environments)) {
    createEnvironment(app, name, parseEnvironmentConfig(name, environments[name]));
  }
  if (options.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  // An explicitly registered plugin replaces the default one; without default rules it checks nothing.
  if (!options.cdkRules) Validations.of(app).addPlugins(new CloudFormationValidatePlugin({ includeDefaultRules: false }));
  return { app, buildMs: performance.now() - started };
}

const mode = process.argv[2] ?? 'full';
const { app, buildMs } = build({ nag: mode === 'full', cdkRules: mode !== 'bare' });
const started = performance.now();
app.synth();
process.stdout.write(JSON.stringify({ mode, buildMs, synthMs: performance.now() - started }));
