import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import { BuildPipeline, EnrollmentSaga, LambdaRuntimeService, PaymentOutbox, ProductApi } from '../../lib';
import { handlerEntries } from '../../projenrc/bundle-handlers';

/**
 * What a user does: install the published tarball into a fresh CDK app and synthesize
 * it, with no Docker engine, no AWS credentials and no esbuild. The package ships the
 * handler bundles, so the consumer's synth bundles nothing.
 */
const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'node_modules', '.bin');

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  return execFileSync(cmd, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
}

/** The environment of a machine with no AWS account and no Docker engine. */
function offlineEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_') && !k.startsWith('CDK_')) env[k] = v;
  return { ...env, CDK_DOCKER: '/bin/false', AWS_EC2_METADATA_DISABLED: 'true', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent', AWS_CONFIG_FILE: '/nonexistent' };
}

/** The constructs as a user writes them, with the three cdk-nag packs a regulated user runs. */
const CONSUMER_APP = [
  "const { App, Stack, Validations } = require('aws-cdk-lib');",
  "const events = require('aws-cdk-lib/aws-events');",
  "const { AwsSolutionsChecks, NIST80053R5Checks, PCIDSS321Checks } = require('cdk-nag');",
  "const { BuildPipeline, EnrollmentSaga, LambdaRuntimeService, PaymentOutbox, ProductApi } = require('cdk-event-services');",
  'const app = new App();',
  "const stack = new Stack(app, 'Consumer', { env: { account: '111111111111', region: 'eu-west-1' } });",
  "new ProductApi(stack, 'Products');",
  "const payments = new PaymentOutbox(stack, 'Payments');",
  "new EnrollmentSaga(stack, 'Enrollment', { eventBus: payments.eventBus });",
  "const builds = new BuildPipeline(stack, 'Builds', { containerBuilds: true });",
  // A stack of its own: with the other four, one stack would pass CloudFormation's 500 resources.
  "const platform = new Stack(app, 'Platform', { env: { account: '111111111111', region: 'eu-west-1' } });",
  "new LambdaRuntimeService(platform, 'Functions', { functionPrefix: 'consumer', builds, jwt: { issuer: 'https://issuer.example.com', audience: ['api'] } });",
  'Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NIST80053R5Checks(app), new PCIDSS321Checks(app));',
  'app.synth();',
].join('\n');

/** Lambda code asset hashes (S3Key) of a template, by function logical id. */
function codeHashes(template: any): string[] {
  return Object.values(template.Resources as Record<string, any>)
    .filter((r) => r.Type === 'AWS::Lambda::Function')
    .map((r) => JSON.stringify(r.Properties.Code.S3Key))
    .sort();
}

describe('published package', () => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(path.join(tmpdir(), 'ces-pack-'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test('has no dependencies, ships every handler bundle, and synthesizes in a fresh app with no esbuild, Docker or credentials', () => {
    // `npm pack` runs `prepack` (projen compile: bundles, tsc, API.md), as `npm publish` would.
    const tarball = run('npm', ['pack', '--silent', '--pack-destination', work], ROOT).trim().split('\n').pop()!;
    const listing = run('tar', ['-tzf', path.join(work, tarball)], work);
    expect(listing).toContain('package/dist/index.js');
    expect(listing).toContain('package/dist/index.d.ts');
    expect(listing).toContain('package/API.md');
    for (const entry of handlerEntries()) {
      expect(listing).toContain(`package/assets/bundles/${entry}/index.js`);
      expect(listing).toContain(`package/assets/with-source-maps/${entry}/index.js.map`);
    }
    expect(listing).not.toMatch(/package\/(test|bin|projenrc)\//);
    // prepack regenerated API.md from the doc comments: the committed one must be that one.
    expect(run('git', ['status', '--porcelain', 'API.md'], ROOT)).toBe('');

    const packed = JSON.parse(run('tar', ['-xzOf', path.join(work, tarball), 'package/package.json'], work));
    expect(packed.dependencies ?? {}).toEqual({});
    expect(Object.keys(packed.peerDependencies).sort()).toEqual(['aws-cdk-lib', 'constructs']);

    const app = path.join(work, 'consumer');
    mkdirSync(app);
    const ourPkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({
      name: 'consumer',
      version: '1.0.0',
      private: true,
      dependencies: {
        'aws-cdk-lib': ourPkg.devDependencies['aws-cdk-lib'],
        'constructs': ourPkg.devDependencies.constructs,
        'cdk-nag': ourPkg.devDependencies['cdk-nag'],
        'cdk-event-services': `file:../${tarball}`,
      },
    }));
    writeFileSync(path.join(app, 'app.js'), CONSUMER_APP);
    writeFileSync(path.join(app, 'cdk.json'), JSON.stringify({ app: 'node app.js' }));
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], app);
    expect(existsSync(path.join(app, 'node_modules', 'esbuild'))).toBe(false);
    expect(existsSync(path.join(app, 'node_modules', '@aws-sdk'))).toBe(false);

    run(path.join(BIN, 'cdk'), ['synth', '--quiet', '--no-notices', '--no-version-reporting'], app, offlineEnv());

    const read = (name: string) => JSON.parse(readFileSync(path.join(app, 'cdk.out', `${name}.template.json`), 'utf8'));
    const template = read('Consumer');
    const platformTemplate = read('Platform');
    const functions = [template, platformTemplate].flatMap((t) => Object.values(t.Resources))
      .filter((r: any) => r.Type === 'AWS::Lambda::Function' && r.Properties.Runtime === 'nodejs24.x');
    expect(functions.length).toBeGreaterThanOrEqual(handlerEntries().length);

    // The same library version gives the same asset hashes in every app: the consumer's
    // equal those of the same constructs synthesized here, from the repository's assets.
    const stack = new Stack(new App(), 'Consumer', { env: { account: '111111111111', region: 'eu-west-1' } });
    new ProductApi(stack, 'Products');
    const payments = new PaymentOutbox(stack, 'Payments');
    new EnrollmentSaga(stack, 'Enrollment', { eventBus: payments.eventBus as events.IEventBus });
    const builds = new BuildPipeline(stack, 'Builds', { containerBuilds: true });
    const platform = new Stack(stack.node.scope as App, 'Platform', { env: { account: '111111111111', region: 'eu-west-1' } });
    new LambdaRuntimeService(platform, 'Functions', { functionPrefix: 'consumer', builds, jwt: { issuer: 'https://issuer.example.com', audience: ['api'] } });
    expect(codeHashes(template)).toEqual(codeHashes(Template.fromStack(stack).toJSON()));
    expect(codeHashes(platformTemplate)).toEqual(codeHashes(Template.fromStack(platform).toJSON()));
  }, 600_000);
});
