import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const OUT = path.join(__dirname, '.out', 'synth');
const CDK = path.join(ROOT, 'node_modules', '.bin', 'cdk');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
}

function seconds(cmd: string, args: string[], cwd: string): number {
  const started = process.hrtime.bigint();
  run(cmd, args, cwd);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** A fresh consumer app folder with the given dependencies and app.js. */
function consumer(name: string, dependencies: Record<string, string>, app: string[]): string {
  const dir = path.join(OUT, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, dependencies }));
  writeFileSync(path.join(dir, 'app.js'), app.join('\n'));
  writeFileSync(path.join(dir, 'cdk.json'), JSON.stringify({ app: 'node app.js' }));
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], dir);
  return dir;
}

export interface SynthTimes {
  readonly tarballBytes: number;
  readonly installedBytes: number;
  readonly installedPackages: number;
  readonly allConstructsSeconds: number;
  readonly singleFunctionSeconds: number;
  readonly exampleAppSeconds: number;
  readonly breakdown: Record<string, { buildMs: number; synthMs: number }>;
}

function duBytes(dir: string): number {
  return Number(run('du', ['-sb', dir], dir).split('\t')[0]);
}

/**
 * `cdk synth` wall time, median of `runs`, alternating between a consumer app with every
 * construct (from the packed tarball, cdk-nag AwsSolutions on) and a consumer app with one
 * NodejsFunction bundled from source by local esbuild; then the example app's three stacks.
 */
export function measureSynthTimes(runs: number): SynthTimes {
  mkdirSync(OUT, { recursive: true });
  const tarball = run('npm', ['pack', '--silent', '--pack-destination', OUT], ROOT).trim().split('\n').pop()!;
  const ours = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const cdkDeps = { 'aws-cdk-lib': ours.devDependencies['aws-cdk-lib'], 'constructs': ours.devDependencies.constructs };
  const all = consumer('all-constructs', { ...cdkDeps, 'cdk-nag': ours.devDependencies['cdk-nag'], 'cdk-event-services': `file:../${tarball}` }, [
    "const { App, Stack, Validations } = require('aws-cdk-lib');",
    "const { AwsSolutionsChecks } = require('cdk-nag');",
    "const { EnrollmentSaga, PaymentOutbox, ProductApi } = require('cdk-event-services');",
    'const app = new App();',
    "const stack = new Stack(app, 'Consumer');",
    "new ProductApi(stack, 'Products');",
    "const payments = new PaymentOutbox(stack, 'Payments');",
    "new EnrollmentSaga(stack, 'Enrollment', { eventBus: payments.eventBus });",
    'Validations.of(app).addPlugins(new AwsSolutionsChecks(app));',
    'app.synth();',
  ]);
  const single = consumer('single-function', { ...cdkDeps, 'esbuild': ours.devDependencies.esbuild, '@aws-sdk/client-dynamodb': ours.devDependencies['@aws-sdk/client-dynamodb'] }, [
    "const { App, Stack } = require('aws-cdk-lib');",
    "const lambda = require('aws-cdk-lib/aws-lambda');",
    "const { NodejsFunction } = require('aws-cdk-lib/aws-lambda-nodejs');",
    'const app = new App();',
    "const stack = new Stack(app, 'Consumer');",
    "new NodejsFunction(stack, 'Fn', { entry: 'handler.js', runtime: lambda.Runtime.NODEJS_24_X, bundling: { minify: true } });",
    'app.synth();',
  ]);
  writeFileSync(path.join(single, 'handler.js'), "const { DynamoDBClient } = require('@aws-sdk/client-dynamodb');\nconst db = new DynamoDBClient({});\nexports.handler = async () => db.config.region();\n");

  const synthArgs = ['synth', '--quiet', '--no-notices', '--no-version-reporting'];
  const allTimes: number[] = [];
  const singleTimes: number[] = [];
  for (let i = 0; i < runs; i++) {
    allTimes.push(seconds(CDK, synthArgs, all));
    singleTimes.push(seconds(CDK, synthArgs, single));
  }
  const exampleAppSeconds = seconds(CDK, [...synthArgs, '-o', path.join(OUT, 'example.out')], ROOT);
  const breakdown: SynthTimes['breakdown'] = {};
  for (const mode of ['full', 'nonag', 'bare']) {
    breakdown[mode] = JSON.parse(run(path.join(ROOT, 'node_modules', '.bin', 'tsx'), [path.join(__dirname, 'synth-breakdown.ts'), mode], ROOT));
  }
  const installed = path.join(all, 'node_modules');
  return {
    tarballBytes: Number(run('stat', ['-c', '%s', path.join(OUT, tarball)], OUT).trim()),
    installedBytes: duBytes(path.join(installed, 'cdk-event-services')),
    installedPackages: Number(run('sh', ['-c', 'npm ls --all --parseable 2>/dev/null | wc -l'], all).trim()) - 1,
    allConstructsSeconds: median(allTimes),
    singleFunctionSeconds: median(singleTimes),
    exampleAppSeconds,
    breakdown,
  };
}
