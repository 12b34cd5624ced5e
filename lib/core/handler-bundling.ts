import * as path from 'node:path';
import { OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';

/**
 * The library's pre-built handler bundles. `npx projen compile` writes them (see
 * `projenrc/bundle-handlers.ts`); the package ships them, so a consumer's synth runs no
 * esbuild. The path resolves from `lib/core` (ts-jest) and from `dist/core` (published).
 */
export const HANDLER_ASSETS_DIR = path.join(__dirname, '..', '..', 'assets');

/** The handler sources, shipped for users who bundle from source (see ServiceFunction). */
export const HANDLER_SOURCES_DIR = path.join(__dirname, '..', '..', 'functions');

/**
 * The folder holding `index.js` (and `index.js.map` with source maps) of one handler,
 * named by its contract entry `<service>/<handler>`.
 */
export function handlerAssetDir(entry: string, sourceMaps: boolean): string {
  return path.join(HANDLER_ASSETS_DIR, sourceMaps ? 'with-source-maps' : 'bundles', entry);
}

/**
 * esbuild options of every handler bundle (esbuild API form). `mainFields` module-first
 * lets esbuild tree-shake the SDK's ES build: measured 37% smaller bundles and ~40%
 * faster module init. The SDK loads node:http with import(); lowered to require()
 * (equivalent in a CJS bundle) so jest's CommonJS runtime can load the very bundle Lambda runs.
 */
export const HANDLER_ESBUILD_OPTIONS = {
  bundle: true,
  // Powertools idempotency's full JMESPath interpreter → a dotted-field-path evaluator
  // (functions/shared/jmespath-lite): -23 KB in every idempotent handler.
  alias: { '@aws-lambda-powertools/jmespath': './functions/shared/jmespath-lite' },
  platform: 'node',
  format: 'cjs',
  target: 'node24',
  mainFields: ['module', 'main'],
  minify: true,
  supported: { 'dynamic-import': false },
} as const;

/**
 * The same options as NodejsFunction `bundling`, for users who bundle from source
 * (context `cdk-event-services:bundleFromSource`).
 */
export const SERVICE_FUNCTION_BUNDLING = {
  minify: HANDLER_ESBUILD_OPTIONS.minify,
  bundleAwsSDK: true,
  mainFields: [...HANDLER_ESBUILD_OPTIONS.mainFields],
  format: OutputFormat.CJS,
  target: HANDLER_ESBUILD_OPTIONS.target,
  esbuildArgs: { '--supported:dynamic-import': 'false' },
};

/** The alias as an esbuild CLI flag, for NodejsFunction bundling (run from the package root). */
export function aliasArgs(root: string): Record<string, string> {
  return Object.fromEntries(Object.entries(HANDLER_ESBUILD_OPTIONS.alias).map(([from, to]) => [`--alias:${from}`, `${root}/${to.replace(/^\.\//, '')}`]));
}
