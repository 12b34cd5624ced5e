import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { HANDLER_ESBUILD_OPTIONS, handlerAssetDir } from '../../lib/core/handler-bundling';

const ROOT = path.join(__dirname, '..', '..');

export interface BundledHandler {
  readonly file: string;
  /** Minified bundle size in bytes (what Lambda loads). */
  readonly bytes: number;
}

/**
 * The bundle the package ships for a handler (`functions/<service>/<handler>.ts` →
 * `assets/bundles/<service>/<handler>/index.js`), built by jest's global setup exactly as
 * `npx projen compile` builds it: tests run the very artifact Lambda runs. (Middy and
 * fauxqs are ESM-only, which jest's CommonJS mode cannot import from source; the CJS
 * bundle sidesteps that.)
 */
export function shippedBundle(entry: string): BundledHandler {
  const relative = path.relative(path.join(ROOT, 'functions'), path.isAbsolute(entry) ? entry : path.join(ROOT, entry));
  const file = path.join(handlerAssetDir(relative.replace(/\.ts$/, ''), false), 'index.js');
  return { file, bytes: statSync(file).size };
}

/** Kept for the tests' call sites: the shipped bundle of a handler source file. */
export async function bundleHandler(entry: string): Promise<BundledHandler> {
  return shippedBundle(entry);
}

/**
 * Bundles a file that is not a handler (the bench's instrumented and bare entries) with
 * the handlers' esbuild options, so it compares like with like.
 */
export async function bundleEntry(entry: string, outfile?: string): Promise<BundledHandler> {
  const file = outfile ?? path.join(mkdtempSync(path.join(tmpdir(), 'handler-bundle-')), `${path.basename(entry, '.ts')}.js`);
  await build({
    ...HANDLER_ESBUILD_OPTIONS,
    alias: { ...HANDLER_ESBUILD_OPTIONS.alias },
    supported: { ...HANDLER_ESBUILD_OPTIONS.supported },
    mainFields: [...HANDLER_ESBUILD_OPTIONS.mainFields],
    entryPoints: [path.isAbsolute(entry) ? entry : path.join(ROOT, entry)],
    absWorkingDir: ROOT,
    outfile: file,
    logLevel: 'error',
  });
  return { file, bytes: statSync(file).size };
}

/** Requires a bundle; set process.env first, since clients and config read it at load. */
export function loadHandler<T = any>(bundle: BundledHandler): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(bundle.file).handler as T;
}
