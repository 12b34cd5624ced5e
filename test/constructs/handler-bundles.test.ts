import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { PaymentOutbox } from '../../lib';
import { handlerAssetDir } from '../../lib/core/handler-bundling';
import { BUNDLE_FROM_SOURCE_CONTEXT } from '../../lib/core/service-function';
import { PaymentOutboxHandlers } from '../../lib/payment-outbox/contract';

/** Synthesizes a PaymentOutbox and returns the staged code folder and environment of its publisher. */
function publisherOf(context: Record<string, unknown>, props: { sourceMaps?: boolean } = {}) {
  const outdir = mkdtempSync(path.join(tmpdir(), 'ces-bundles-'));
  // Asset metadata names each function's staged code folder in the template.
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true, ...context } });
  const stack = new Stack(app, 'Bundles', { env: { account: '111111111111', region: 'eu-west-1' } });
  new PaymentOutbox(stack, 'Payments', props);
  const assembly = app.synth();
  const template = assembly.getStackByName('Bundles').template;
  const fn = Object.values(template.Resources as Record<string, any>).find((r) =>
    r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === PaymentOutboxHandlers.publisher.serviceName);
  return { outdir, dir: path.join(outdir, fn.Metadata['aws:asset:path']), env: fn.Properties.Environment.Variables, handler: fn.Properties.Handler };
}

describe('handler code', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  test('by default the function deploys the shipped bundle, unchanged', () => {
    const { outdir, dir, handler } = publisherOf({});
    dirs.push(outdir);
    const shipped = path.join(handlerAssetDir(PaymentOutboxHandlers.publisher.entry, false), 'index.js');
    expect(handler).toBe('index.handler');
    expect(readFileSync(path.join(dir, 'index.js'))).toEqual(readFileSync(shipped));
    expect(existsSync(path.join(dir, 'index.js.map'))).toBe(false);
  });

  test('sourceMaps: the bundle with its sidecar map (no sources content) and --enable-source-maps', () => {
    const { outdir, dir, env } = publisherOf({}, { sourceMaps: true });
    dirs.push(outdir);
    expect(env.NODE_OPTIONS).toBe('--enable-source-maps');
    expect(readFileSync(path.join(dir, 'index.js'), 'utf8')).toMatch(/\/\/# sourceMappingURL=index\.js\.map\s*$/);
    const map = JSON.parse(readFileSync(path.join(dir, 'index.js.map'), 'utf8'));
    expect(map.sources.some((s: string) => s.endsWith('functions/payment-outbox/publish-outbox.ts'))).toBe(true);
    expect(map.sourcesContent).toBeUndefined();
  });

  test(`context ${BUNDLE_FROM_SOURCE_CONTEXT}: bundled from the sources with the user's esbuild options`, () => {
    const { outdir, dir, handler } = publisherOf({ [BUNDLE_FROM_SOURCE_CONTEXT]: { minify: false } });
    dirs.push(outdir);
    const code = readFileSync(path.join(dir, 'index.js'), 'utf8');
    expect(handler).toBe('index.handler');
    // not minified, as asked, and still the publisher
    expect(code.split('\n').length).toBeGreaterThan(1000);
    expect(code).toContain('Outbox batch published');
    expect(readFileSync(path.join(handlerAssetDir(PaymentOutboxHandlers.publisher.entry, false), 'index.js'), 'utf8')).not.toEqual(code);
  }, 120_000);
});
