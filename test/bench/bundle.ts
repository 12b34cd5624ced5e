import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { SERVICE_FUNCTION_BUNDLING } from '../../lib/core/service-function';

/** Bundles one entry exactly as ServiceFunction does (minified, module-first, CJS, node24). */
export function bundle(entry: string, outfile: string): void {
  buildSync({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: SERVICE_FUNCTION_BUNDLING.target,
    minify: SERVICE_FUNCTION_BUNDLING.minify,
    mainFields: SERVICE_FUNCTION_BUNDLING.mainFields,
    logLevel: 'error',
    absWorkingDir: path.join(__dirname, '..', '..'),
  });
}
