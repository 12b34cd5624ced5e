import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/**
 * What a user does: install the published tarball into a fresh CDK app and synthesize
 * it, with no Docker engine and no AWS credentials. Bundling must run on the esbuild the
 * package depends on.
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

describe('published package', () => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(path.join(tmpdir(), 'ces-pack-'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test('installs into a fresh CDK app and synthesizes ProductApi, PaymentOutbox and EnrollmentSaga without Docker or credentials', () => {
    run(path.join(BIN, 'tsc'), ['-p', 'tsconfig.json'], ROOT);
    const tarball = run('npm', ['pack', '--silent', '--pack-destination', work], ROOT).trim().split('\n').pop()!;
    const listing = run('tar', ['-tzf', path.join(work, tarball)], work);
    expect(listing).toContain('package/dist/index.js');
    expect(listing).toContain('package/dist/index.d.ts');
    expect(listing).toContain('package/functions/product-api/accept-change.ts');
    expect(listing).toContain('package/functions/payment-outbox/webhook.ts');
    expect(listing).toContain('package/functions/enrollment-saga/start-saga.ts');
    expect(listing).not.toMatch(/package\/(test|bin)\//);

    const app = path.join(work, 'consumer');
    run('mkdir', ['-p', app], work);
    const ourPkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({
      name: 'consumer',
      version: '1.0.0',
      private: true,
      dependencies: {
        'aws-cdk-lib': ourPkg.devDependencies['aws-cdk-lib'],
        'constructs': ourPkg.devDependencies.constructs,
        'cdk-event-services': `file:../${tarball}`,
      },
    }));
    writeFileSync(path.join(app, 'app.js'), [
      "const { App, Stack } = require('aws-cdk-lib');",
      "const { EnrollmentSaga, PaymentOutbox, ProductApi } = require('cdk-event-services');",
      'const app = new App();',
      "const stack = new Stack(app, 'Consumer');",
      "new ProductApi(stack, 'Products');",
      "const payments = new PaymentOutbox(stack, 'Payments');",
      "new EnrollmentSaga(stack, 'Enrollment', { eventBus: payments.eventBus });",
      'app.synth();',
    ].join('\n'));
    writeFileSync(path.join(app, 'cdk.json'), JSON.stringify({ app: 'node app.js' }));
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], app);

    run(path.join(BIN, 'cdk'), ['synth', '--quiet', '--no-notices', '--no-version-reporting'], app, offlineEnv());

    const template = JSON.parse(readFileSync(path.join(app, 'cdk.out', 'Consumer.template.json'), 'utf8'));
    const functions = Object.values(template.Resources).filter((r: any) => r.Type === 'AWS::Lambda::Function' && r.Properties.Runtime === 'nodejs24.x');
    expect(functions).toHaveLength(14);
    // every handler was bundled locally into a single minified index.js
    const assets = readdirSync(path.join(app, 'cdk.out')).filter((d) => d.startsWith('asset.'));
    const bundles = assets.map((d) => path.join(app, 'cdk.out', d, 'index.js')).filter((f) => existsSync(f));
    expect(bundles.length).toBeGreaterThanOrEqual(14);
    for (const b of bundles) expect(statSync(b).size).toBeGreaterThan(10_000);
  }, 300_000);
});
