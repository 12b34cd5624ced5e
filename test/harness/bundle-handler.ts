import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { SERVICE_FUNCTION_BUNDLING as BUNDLING } from '../../lib/core/service-function';

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
export async function bundleHandler(entry: string, outfile?: string): Promise<BundledHandler> {
  const file = outfile ?? path.join(mkdtempSync(path.join(tmpdir(), 'handler-bundle-')), `${path.basename(entry, '.ts')}.js`);
  await build({
    entryPoints: [path.isAbsolute(entry) ? entry : path.join(ROOT, entry)],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: BUNDLING.target,
    mainFields: BUNDLING.mainFields,
    minify: BUNDLING.minify,
    supported: supportedFromArgs(BUNDLING.esbuildArgs),
    logLevel: 'error',
  });
  return { file, bytes: statSync(file).size };
}

/** Requires a bundle; set process.env first, since clients and config read it at load. */
export function loadHandler<T = any>(bundle: BundledHandler): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(bundle.file).handler as T;
}

/** The construct's `--supported:<feature>` esbuild CLI flags, as esbuild API options. */
function supportedFromArgs(args: Record<string, string | boolean>): Record<string, boolean> {
  return Object.fromEntries(
    Object.entries(args)
      .filter(([flag]) => flag.startsWith('--supported:'))
      .map(([flag, value]) => [flag.slice('--supported:'.length), String(value) === 'true']),
  );
}
