import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { build } from 'esbuild';
import { HANDLER_ASSETS_DIR, HANDLER_ESBUILD_OPTIONS, HANDLER_SOURCES_DIR, handlerAssetDir } from '../lib/core/handler-bundling';

/**
 * Every handler entry: a file directly under `functions/<service>/` that exports
 * `handler`. Its contract entry is `<service>/<file without .ts>`.
 */
export function handlerEntries(): string[] {
  const entries: string[] = [];
  for (const service of readdirSync(HANDLER_SOURCES_DIR, { withFileTypes: true })) {
    if (!service.isDirectory() || service.name === 'shared') continue;
    for (const file of readdirSync(path.join(HANDLER_SOURCES_DIR, service.name))) {
      if (!file.endsWith('.ts') || file.endsWith('.d.ts')) continue;
      const source = readFileSync(path.join(HANDLER_SOURCES_DIR, service.name, file), 'utf8');
      if (/^export const handler\b/m.test(source)) entries.push(`${service.name}/${file.slice(0, -3)}`);
    }
  }
  return entries.sort();
}

/**
 * Builds every handler twice, once plain and once with a sidecar source map (linked,
 * without sources content, for `sourceMaps: true`), into `assets/`. Runs at compile, so
 * the package ships the bundles, and once per test run, so the tests load exactly those.
 * Each file is replaced by a rename: a test run loading a bundle never sees half a file.
 */
export async function bundleHandlers(options: { onlyOutdated?: boolean } = {}): Promise<string[]> {
  const entries = handlerEntries();
  removeStaleBundles(entries);
  const manifest = readManifest();
  const todo = options.onlyOutdated ? entries.filter((entry) => isOutdated(entry, manifest)) : entries;
  await Promise.all(todo.flatMap((entry) => [false, true].map(async (sourceMaps) => {
    const dir = handlerAssetDir(entry, sourceMaps);
    const result = await build({
      ...HANDLER_ESBUILD_OPTIONS,
      alias: { ...HANDLER_ESBUILD_OPTIONS.alias },
      supported: { ...HANDLER_ESBUILD_OPTIONS.supported },
      mainFields: [...HANDLER_ESBUILD_OPTIONS.mainFields],
      entryPoints: [path.join(HANDLER_SOURCES_DIR, `${entry}.ts`)],
      outfile: path.join(dir, 'index.js'),
      sourcemap: sourceMaps ? 'linked' : false,
      sourcesContent: false,
      // Paths relative to the repository: the same sources give the same bytes (and asset
      // hashes) wherever the library is built.
      absWorkingDir: path.join(HANDLER_SOURCES_DIR, '..'),
      write: false,
      metafile: true,
      logLevel: 'error',
    });
    // Our own sources only: dependencies change with package-lock.json, which counts for every entry.
    const inputs = Object.keys(result.metafile.inputs).filter((input) => !input.includes('node_modules/'));
    manifest[entry] = { inputs, hash: hashOf(inputs) };
    mkdirSync(dir, { recursive: true });
    for (const file of result.outputFiles) {
      const temporary = `${file.path}.${process.pid}.tmp`;
      writeFileSync(temporary, file.contents);
      renameSync(temporary, file.path);
    }
  })));
  // Re-read before writing: an overlapping run may have recorded other entries meanwhile.
  writeFileSync(MANIFEST, JSON.stringify({ ...readManifest(), ...Object.fromEntries(todo.map((e) => [e, manifest[e]])) }, null, 2));
  return todo;
}

/**
 * Which source files went into each bundle, and a hash of their contents: `npx jest`
 * rebuilds only bundles whose sources changed. Contents, not modification times: two
 * overlapping runs could otherwise leave a bundle of older sources looking newer.
 */
const MANIFEST = path.join(HANDLER_ASSETS_DIR, 'inputs.json');
const ROOT = path.join(HANDLER_SOURCES_DIR, '..');

type Manifest = Record<string, { inputs: string[]; hash: string }>;

function readManifest(): Manifest {
  return existsSync(MANIFEST) ? JSON.parse(readFileSync(MANIFEST, 'utf8')) : {};
}

function hashOf(inputs: string[]): string {
  const hash = createHash('sha256');
  for (const input of [...inputs, 'package-lock.json']) {
    const file = path.join(ROOT, input);
    hash.update(input).update(existsSync(file) ? readFileSync(file) : 'missing');
  }
  return hash.digest('hex');
}

function isOutdated(entry: string, manifest: Manifest): boolean {
  const bundles = [false, true].map((sourceMaps) => path.join(handlerAssetDir(entry, sourceMaps), 'index.js'));
  const built = manifest[entry];
  return !built?.hash || bundles.some((b) => !existsSync(b)) || hashOf(built.inputs) !== built.hash;
}

/** Bundles of handlers that no longer exist must not ship. */
function removeStaleBundles(entries: string[]): void {
  for (const variant of ['bundles', 'with-source-maps']) {
    const root = path.join(HANDLER_ASSETS_DIR, variant);
    if (!existsSync(root)) continue;
    for (const service of readdirSync(root)) {
      for (const handler of readdirSync(path.join(root, service))) {
        if (!entries.includes(`${service}/${handler}`)) rmSync(path.join(root, service, handler), { recursive: true, force: true });
      }
    }
  }
}

if (require.main === module) {
  const started = Date.now();
  bundleHandlers({ onlyOutdated: process.argv.includes('--only-outdated') }).then(
    (built) => console.log(`bundled ${built.length} handlers into assets/ in ${Date.now() - started} ms`),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
