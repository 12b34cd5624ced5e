import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';

const ROOT = path.join(__dirname, '..', '..');

export interface BundledHandler {
  readonly file: string;
  /** Minified bundle size in bytes (what Lambda loads). */
  readonly bytes: number;
}

/**
 * Bundles a handler the way the construct does (CJS, node24, module-first main fields, the
 * SDK inside, minified) so tests run the exact artifact Lambda runs. Middy and fauxqs are
 * ESM-only, which jest's CommonJS mode cannot import from source; the bundle sidesteps that.
 */
export async function bundleHandler(entry: string): Promise<BundledHandler> {
  const outdir = mkdtempSync(path.join(tmpdir(), 'handler-bundle-'));
  const file = path.join(outdir, `${path.basename(entry, '.ts')}.js`);
  await build({
    entryPoints: [path.join(ROOT, entry)],
    outfile: file,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    mainFields: ['module', 'main'],
    minify: true,
    // The SDK loads node:http etc. with import(); jest's vm (CommonJS mode) refuses import()
    // without --experimental-vm-modules. Lowering it to require() is equivalent on Lambda's
    // CJS runtime; the construct should pass the same flag (esbuildArgs
    // {'--supported:dynamic-import': 'false'}) so this stays the artifact Lambda runs.
    supported: { 'dynamic-import': false },
    logLevel: 'error',
  });
  return { file, bytes: statSync(file).size };
}

/** Requires a bundle; set process.env first, since clients and config read it at load. */
export function loadHandler<T = any>(bundle: BundledHandler): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(bundle.file).handler as T;
}
