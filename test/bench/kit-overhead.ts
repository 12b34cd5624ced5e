import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { BARE_HANDLERS } from './bare-handlers';
import {
  BuildPipelineEnv, CONTAINER_BUILDS_DISABLED, DEFAULT_BUILD_JOB_SETTINGS, DEFAULT_WEBHOOK_SETTINGS, DEFAULT_ZIP_LIMITS,
} from '../../lib/build-pipeline/contract';
import { handlerAssetDir } from '../../lib/core/handler-bundling';
import {
  DEFAULT_CALLBACK_SETTINGS, DEFAULT_FUNCTION_LIMITS, DEFAULT_RUNTIME_SETTINGS, DEFAULT_SCHEDULE_SETTINGS, LambdaRuntimeEnv, PLATFORM_TAG_KEY,
} from '../../lib/lambda-runtime-service/contract';
import { handlerEntries } from '../../projenrc/bundle-handlers';
import { bundleEntry } from '../harness/bundle-handler';

const OUT = path.join(__dirname, '.out');

export interface KitOverhead {
  readonly handler: string;
  readonly bytes: number;
  readonly bareBytes: number;
  readonly initMs: number;
  readonly bareInitMs: number;
  /** Median of the per-pair ratios kit/bare over alternating fresh processes. */
  readonly initRatio: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Module init of a bundle in a fresh Node process (what a cold start pays before the handler runs). */
function initMs(file: string): number {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  // Placeholder configuration: the handlers read it at init, as on Lambda.
  const env = { ...process.env, AWS_REGION: 'us-east-1', ...Object.fromEntries(CONFIG_NAMES.map((n) => [n, CONFIG_VALUES[n] ?? 'placeholder'])) };
  return Number(execFileSync(process.execPath, ['-e', script], { env }).toString());
}

/** Every variable a handler may read, with a value it accepts (numbers where it wants numbers). */
const CONFIG_VALUES: Record<string, string> = {
  SIGNATURE_TOLERANCE_SECONDS: '300',
  OUTBOX_RETENTION_SECONDS: '604800',
  SESSION_WINDOW: '4',
  TOTAL_SESSIONS: '30',
  SESSION_INTERVAL_DAYS: '7',
  SESSION_TIME: '09:00',
  CALLER_IDENTITY: 'apiKey',
  [BuildPipelineEnv.ZIP_LIMITS]: JSON.stringify(DEFAULT_ZIP_LIMITS),
  [BuildPipelineEnv.JOB_SETTINGS]: JSON.stringify(DEFAULT_BUILD_JOB_SETTINGS),
  [BuildPipelineEnv.WEBHOOK_SETTINGS]: JSON.stringify(DEFAULT_WEBHOOK_SETTINGS),
  [BuildPipelineEnv.CONTAINER_BUILD_PROJECT]: CONTAINER_BUILDS_DISABLED,
  [LambdaRuntimeEnv.FUNCTION_LIMITS]: JSON.stringify(DEFAULT_FUNCTION_LIMITS),
  [LambdaRuntimeEnv.RUNTIME_SETTINGS]: JSON.stringify(DEFAULT_RUNTIME_SETTINGS),
  [LambdaRuntimeEnv.SCHEDULE_SETTINGS]: JSON.stringify(DEFAULT_SCHEDULE_SETTINGS),
  [LambdaRuntimeEnv.CALLBACK_SETTINGS]: JSON.stringify(DEFAULT_CALLBACK_SETTINGS),
  [LambdaRuntimeEnv.FUNCTION_PREFIX]: 'bench',
  [LambdaRuntimeEnv.FUNCTION_TAGS]: JSON.stringify({ [PLATFORM_TAG_KEY]: 'bench' }),
  [LambdaRuntimeEnv.FUNCTION_ARN_BASE]: 'arn:aws:lambda:us-east-1:111111111111:function:',
  [LambdaRuntimeEnv.JWT_ISSUER]: 'https://issuer.example.com',
  [LambdaRuntimeEnv.JWT_AUDIENCE]: JSON.stringify(['bench']),
};
let CONFIG_NAMES: string[] = [];

/**
 * Per handler: the shipped bundle against a bare handler with the same SDK clients, in
 * bytes, and in module init measured as alternating fresh processes (kit, bare, kit,
 * bare, …) so machine load hits both alike; the ratio is the median of the pairs' ratios.
 */
export async function measureKitOverhead(runs: number, configNames: string[]): Promise<KitOverhead[]> {
  CONFIG_NAMES = configNames;
  mkdirSync(OUT, { recursive: true });
  const results: KitOverhead[] = [];
  for (const handler of handlerEntries()) {
    const bareSource = BARE_HANDLERS[handler];
    if (!bareSource) throw new Error(`test/bench/bare-handlers.ts has no bare baseline for ${handler}`);
    const kitFile = path.join(handlerAssetDir(handler, false), 'index.js');
    const bareEntry = path.join(OUT, `${handler.replace('/', '.')}.bare.ts`);
    writeFileSync(bareEntry, bareSource);
    const bare = await bundleEntry(bareEntry, path.join(OUT, `${handler.replace('/', '.')}.bare.js`));
    const kitTimes: number[] = [];
    const bareTimes: number[] = [];
    for (let i = 0; i < runs; i++) {
      kitTimes.push(initMs(kitFile));
      bareTimes.push(initMs(bare.file));
    }
    results.push({
      handler,
      bytes: statSync(kitFile).size,
      bareBytes: bare.bytes,
      initMs: median(kitTimes),
      bareInitMs: median(bareTimes),
      initRatio: median(kitTimes.map((t, i) => t / bareTimes[i])),
    });
  }
  return results;
}
