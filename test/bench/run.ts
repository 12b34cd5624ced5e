import { measureAwsCalls } from './aws-calls';
import { measureBuildWebhooks, printBuildWebhooks } from './build-webhook-bench';
import { measureBuildWorker, printBuildWorker } from './build-worker-bench';
import { measureKitOverhead } from './kit-overhead';
import { measureRuntimeInvoke, printRuntimeInvoke } from './runtime-invoke-bench';
import { measureSaga } from './saga-bench';
import { measureSynthTimes } from './synth-times';
import { measureWebhook } from './webhook-latency';
import { BuildPipelineHandlers } from '../../lib/build-pipeline/contract';
import { EnrollmentSagaHandlers } from '../../lib/enrollment-saga/contract';
import { LambdaRuntimeHandlers } from '../../lib/lambda-runtime-service/contract';
import { PaymentOutboxHandlers } from '../../lib/payment-outbox/contract';
import { ProductApiHandlers } from '../../lib/product-api/contract';
import { bundleHandlers } from '../../projenrc/bundle-handlers';

/**
 * `npm run bench`: numbers, not assertions. Kit overhead of every shipped handler bundle
 * against a bare one; synth times of a consumer app with every construct vs one
 * NodejsFunction bundled from source, and of the example app; AWS calls per operation;
 * webhook latency; saga step cost.
 */
const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const SYNTH_RUNS = Number(process.env.BENCH_SYNTH_RUNS ?? 3);

async function main(): Promise<void> {
  await bundleHandlers({ onlyOutdated: true }); // measure the bundles of the sources as they are
  console.log(`node ${process.version}, ${RUNS} alternating fresh processes (kit, bare, ...) per init time\n`);
  console.log('handler                               bundle bytes   bare bytes  ratio   init ms  bare init ms  ratio (median of pairs)');
  const configNames = [ProductApiHandlers, PaymentOutboxHandlers, EnrollmentSagaHandlers, BuildPipelineHandlers, LambdaRuntimeHandlers]
    .flatMap((handlers) => Object.values(handlers).flatMap((c) => [...c.environment]));
  for (const r of await measureKitOverhead(RUNS, configNames)) {
    console.log(
      `${r.handler.padEnd(37)} ${String(r.bytes).padStart(12)} ${String(r.bareBytes).padStart(12)} ${(r.bytes / r.bareBytes).toFixed(2).padStart(6)}` +
        ` ${r.initMs.toFixed(1).padStart(9)} ${r.bareInitMs.toFixed(1).padStart(13)} ${r.initRatio.toFixed(2).padStart(6)}`,
    );
  }

  const synth = measureSynthTimes(SYNTH_RUNS);
  const s = (x: number) => `${x.toFixed(1)} s`;
  console.log(`\nPackage: tarball ${(synth.tarballBytes / 1024 / 1024).toFixed(1)} MiB, installed ${(synth.installedBytes / 1024 / 1024).toFixed(1)} MiB; ` +
    `a consumer app with aws-cdk-lib, constructs, cdk-nag and this package has ${synth.installedPackages} packages`);
  console.log(`cdk synth, median of ${SYNTH_RUNS} alternating runs:`);
  console.log(`  consumer app, ProductApi + PaymentOutbox + EnrollmentSaga (packed tarball, cdk-nag AwsSolutions): ${s(synth.allConstructsSeconds)}`);
  console.log(`  consumer app, one NodejsFunction bundled from source by local esbuild:                        ${s(synth.singleFunctionSeconds)}`);
  console.log(`  ratio: ${(synth.allConstructsSeconds / synth.singleFunctionSeconds).toFixed(2)}x`);
  console.log(`  example app, three environment stacks (cdk synth, cdk-nag AwsSolutions): ${s(synth.exampleAppSeconds)}`);
  const parts = synth.breakdown;
  const sec = (x: number) => `${(x / 1000).toFixed(1)} s`;
  console.log('  where the example app\'s synth goes (in process, no CLI start-up):');
  console.log(`    building the construct tree                  ${sec(parts.full.buildMs)}`);
  console.log(`    cdk-nag AwsSolutions                         ${sec(parts.full.synthMs - parts.nonag.synthMs)}`);
  console.log(`    CDK's template validation (default rules)    ${sec(parts.nonag.synthMs - parts.bare.synthMs)}`);
  console.log(`    the rest of synthesis (templates, assets)    ${sec(parts.bare.synthMs)}`);

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

  console.log('');
  printBuildWorker(await measureBuildWorker());
  console.log('');
  printBuildWebhooks(await measureBuildWebhooks());
  console.log('');
  printRuntimeInvoke(await measureRuntimeInvoke());
  process.exit(); // the handlers' SDK sockets would keep the process alive
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
