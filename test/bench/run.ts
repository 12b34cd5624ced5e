import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { measureAwsCalls } from './aws-calls';
import { BARE_HANDLERS } from './bare-handlers';
import { measureSaga } from './saga-bench';
import { measureWebhook } from './webhook-latency';
import { bundleEntry } from '../harness/bundle-handler';

/**
 * `npm run bench`: per handler, bundle size and module init time (median of fresh
 * processes) next to a bare handler with the same SDK clients; then `cdk synth` time of
 * the dev stack. Prints a table; numbers, not assertions.
 */
const ROOT = path.join(__dirname, '..', '..');
const OUT = path.join(__dirname, '.out');
const RUNS = Number(process.env.BENCH_RUNS ?? 9);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Time to load the bundle in a fresh Node process (what a cold start pays for init). */
function initMs(file: string): number {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const script = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
    samples.push(Number(execFileSync(process.execPath, ['-e', script], { env: { ...process.env, AWS_REGION: 'us-east-1' } }).toString()));
  }
  return median(samples);
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  console.log(`node ${process.version}, ${RUNS} fresh processes per init time\n`);
  console.log('handler                               bundle bytes   bare bytes  ratio   init ms  bare init ms  ratio');
  for (const [handler, bareSource] of Object.entries(BARE_HANDLERS)) {
    const name = handler.replace('/', '.');
    const kitFile = path.join(OUT, `${name}.js`);
    await bundleEntry(path.join(ROOT, 'functions', `${handler}.ts`), kitFile);
    const bareEntry = path.join(OUT, `${name}.bare.ts`);
    writeFileSync(bareEntry, bareSource);
    const bareFile = path.join(OUT, `${name}.bare.js`);
    await bundleEntry(bareEntry, bareFile);
    const [size, bareSize] = [statSync(kitFile).size, statSync(bareFile).size];
    const [init, bareInit] = [initMs(kitFile), initMs(bareFile)];
    console.log(
      `${handler.padEnd(37)} ${String(size).padStart(12)} ${String(bareSize).padStart(12)} ${(size / bareSize).toFixed(2).padStart(6)}` +
        ` ${init.toFixed(1).padStart(9)} ${bareInit.toFixed(1).padStart(13)} ${(init / bareInit).toFixed(2).padStart(6)}`,
    );
  }
  const start = process.hrtime.bigint();
  execFileSync(path.join(ROOT, 'node_modules', '.bin', 'cdk'), ['synth', '-c', 'env=dev', '--quiet', '--no-notices', '-o', path.join(OUT, 'cdk.out')], {
    cwd: ROOT,
    stdio: 'ignore',
  });
  console.log(`\ncdk synth (dev stack, every function bundled by local esbuild): ${(Number(process.hrtime.bigint() - start) / 1e9).toFixed(1)} s`);

  console.log('\nAWS calls per operation (SDK middleware on the handlers\' clients, local engines):');
  for (const { operation, calls } of await measureAwsCalls()) {
    const total = Object.values(calls).reduce((a, b) => a + b, 0);
    const detail = Object.entries(calls).map(([k, n]) => `${k} x${n}`).join(', ');
    console.log(`  ${operation.padEnd(34)} ${String(total).padStart(2)}  ${detail}`);
  }

  const webhook = await measureWebhook();
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  console.log('\nPayment webhook handler, warm, against DynamoDB Local (signature, validation, 2 reads, 1 transaction):');
  console.log(`  sequential x${webhook.sequential.n}: p50 ${ms(webhook.sequential.p50)}, p95 ${ms(webhook.sequential.p95)}, p99 ${ms(webhook.sequential.p99)}, max ${ms(webhook.sequential.max)}`);
  console.log(`  ${webhook.concurrent.n} concurrent: ${ms(webhook.concurrent.wallMs)} wall, ${webhook.concurrent.perSecond.toFixed(0)} webhooks/s`);
  console.log(`  AWS calls per webhook: ${Object.entries(webhook.callsPerWebhook).filter(([, n]) => n > 0).map(([k, n]) => `${k} x${n}`).join(', ')}`);

  const saga = await measureSaga();
  const calls = (c: Record<string, number>) => Object.entries(c).map(([k, n]) => `${k} x${n}`).join(', ') || 'none';
  console.log('\nEnrollment saga handlers, warm, against DynamoDB Local:');
  for (const [step, c] of Object.entries(saga.callsPerStep)) console.log(`  ${step.padEnd(20)} ${calls(c)}`);
  console.log(`  4 steps of one enrollment x${saga.sagaSteps.n}: p50 ${ms(saga.sagaSteps.p50)}, p95 ${ms(saga.sagaSteps.p95)} (handler time, no state transitions)`);
  console.log(`  top-up over ${saga.topUp.allocations} allocations with full windows: ${ms(saga.topUp.ms)}, ${saga.topUp.perSecond.toFixed(0)} allocations/s; ${calls(saga.topUp.calls)}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
