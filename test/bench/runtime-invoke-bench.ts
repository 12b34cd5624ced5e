import { request } from 'node:http';
import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { build } from 'esbuild';
import { countCalls, type Counts } from './aws-calls';
import { createFunctionCache, invokeFunction, type InvokeServices } from '../../functions/lambda-runtime-service/invoke-logic';
import { RateLimiter, type RateDecision } from '../../functions/lambda-runtime-service/rate-limiter';
import { registerFunction } from '../../functions/lambda-runtime-service/registry-store';
import { HANDLER_ESBUILD_OPTIONS } from '../../lib/core/handler-bundling';
import { awsFunctionName, DEFAULT_FUNCTION_LIMITS, LambdaRuntimeEnv as E, type RateLimit } from '../../lib/lambda-runtime-service/contract';
import { startDynamoDbLocal, startFauxqs, type EmulatorProcess } from '../harness/emulator-processes';
import { apiEvent, configureHandlerEnv, createBucket, fakeContext, REGION, uniqueName } from '../harness/local-aws';
import { deployPlatformFunction } from '../harness/local-lambda/platform-function';
import { startLocalLambda, type LocalLambda } from '../harness/local-lambda/server';
import { runtimeTables, type RuntimeTables } from '../lambda-runtime-service/runtime-tables';

/*
 * LambdaRuntimeService invoke path, measured on this machine: DynamoDB Local (a JVM), fauxqs (S3 for the
 * function ZIPs) and the local Lambda endpoint (Lambda's REST-JSON wire protocol over loopback HTTP; the
 * function runs in a warm Node child process of that endpoint). What the numbers mean and do not mean:
 * - every "AWS" call is a loopback HTTP request to a local process, so a call costs well under a real
 *   in-region round trip on some machines and more on a loaded one (DynamoDB Local is slower per request
 *   than DynamoDB, and shares the cores with everything else here). The overhead printed is
 *   "two or three local DynamoDB requests + the handler's own code", not what API Gateway + Lambda add in AWS;
 * - the direct Invoke and the platform's Invoke hit the same endpoint and the same warm child process,
 *   so their difference is the platform's work (cache lookup, rate-limit UpdateItem, audit PutItem,
 *   EMF and log lines), not Lambda's;
 * - no API Gateway, no Lambda container for the handler itself: the handler runs in this process.
 * - rate-limiter decisions/s is DynamoDB Local's rate of conditional writes on one item from this process
 *   (one JVM, loopback), not DynamoDB's per-partition limit (about 1,000 writes/s per item in AWS);
 *   the UpdateItem count per decision is the part that carries over. At a very high limit (interval 10 µs)
 *   several limiters guess "idle" while the bucket is "busy" and vice versa, so that run shows the price of
 *   wrong guesses (a second write), not the steady case;
 * - the cache runs use a simulated clock (a minute of traffic in a few seconds), so hit rates are those of
 *   that arrival pattern (uniform over 10 functions, one call per 60 ms), not a measured production mix.
 * Counts of AWS calls are exact (SDK middleware on the bundle's DynamoDB clients; the local Lambda
 * endpoint's own request log for Invoke).
 */

type HttpFn = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
interface Dist { n: number; p50: number; p95: number; p99: number; max: number }

export interface RuntimeInvokeBench {
  readonly overhead: {
    readonly direct: Dist;
    readonly platform: Dist;
    /** AWS calls of one platform invoke, warm with the metadata in the container's cache. */
    readonly callsCacheHit: Counts;
    /** AWS calls of the container's first invoke (cache miss). */
    readonly callsCacheMiss: Counts;
    /** Registry GetItems during the timed platform calls (the 10 s TTL running out in real time). */
    readonly missesDuringSample: number;
  };
  readonly rateLimiter: RateLimiterRun[];
  readonly cache: CacheRun[];
}

export interface RateLimiterRun {
  readonly label: string;
  readonly limit: RateLimit;
  readonly decisions: number;
  readonly concurrency: number;
  readonly limiters: number;
  readonly wallMs: number;
  readonly perSecond: number;
  readonly admitted: number;
  /** GCRA's bound over the run's wall time: burst + floor(wall / interval). */
  readonly bound: number;
  readonly writesMean: number;
  readonly writesMax: number;
  /** UpdateItem calls counted on the client (must equal the sum of the decisions' `writes`). */
  readonly updateItems: number;
}

export interface CacheRun {
  readonly ttlSeconds: number;
  readonly calls: number;
  readonly functions: number;
  readonly windowSeconds: number;
  readonly hits: number;
  readonly misses: number;
  readonly registryGetItems: number;
  readonly wallMs: number;
}

const PREFIX = 'bench';
const ECHO = 'exports.handler = async (event) => ({ echo: event });';
const HIGH: RateLimit = { requestsPerSecond: 100_000, burst: 100_000 };
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const dist = (samples: number[]): Dist => {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), max: s[s.length - 1] };
};
const elapsedMs = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;
const nonZero = (c: Counts) => Object.fromEntries(Object.entries(c).filter(([, v]) => v > 0));

/** A DynamoDB client of its own (its calls counted apart from the handler's). */
const localDynamoDb = () =>
  new DynamoDBClient({ region: REGION, endpoint: process.env.TEST_DYNAMODB_ENDPOINT, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });

/** Answers at all (any HTTP status): an endpoint left in the environment by an earlier bench may be stopped. */
function reachable(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'GET', timeout: 1_000 }, (res) => { res.resume(); resolve(true); });
    req.on('error', () => resolve(false));
    req.on('timeout', () => { req.destroy(); resolve(false); });
    req.end();
  });
}

/**
 * The invoke handler as shipped: functions/lambda-runtime-service/invoke-function.ts bundled with the
 * handlers' esbuild options (what `assets/bundles/...` holds, but from the sources as they are now), plus
 * the shared DynamoDB client module it uses, in one bundle so the very clients it sends with can be counted.
 * Written to test/bench/.out (ignored by git); no entry file in the tree.
 */
async function bundleInvokeHandler(): Promise<string> {
  const root = path.join(__dirname, '..', '..');
  const outfile = path.join(__dirname, '.out', 'runtime-invoke-entry.js');
  await build({
    ...HANDLER_ESBUILD_OPTIONS,
    alias: { ...HANDLER_ESBUILD_OPTIONS.alias },
    supported: { ...HANDLER_ESBUILD_OPTIONS.supported },
    mainFields: [...HANDLER_ESBUILD_OPTIONS.mainFields],
    stdin: {
      contents: [
        "export { handler } from './functions/lambda-runtime-service/invoke-function';",
        "export { dynamoDbClient, documentClient } from './functions/shared/clients/dynamodb';",
      ].join('\n'),
      resolveDir: root,
      sourcefile: 'runtime-invoke-entry.ts',
      loader: 'ts',
    },
    absWorkingDir: root,
    outfile,
    logLevel: 'error',
  });
  return outfile;
}

/** Runs `fn` with stdout swallowed: the handler's EMF and log lines are produced (their cost counts) but not shown. */
async function quiet<T>(fn: () => Promise<T>): Promise<T> {
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return await fn();
  } finally {
    process.stdout.write = write;
  }
}

const invokeEvent = (name: string, body: unknown): APIGatewayProxyEvent => ({
  ...apiEvent({ method: 'POST', body }),
  resource: '/v1.0/functions/{name}/invoke',
  path: `/v1.0/functions/${name}/invoke`,
  pathParameters: { name },
});

/** A seeded PRNG (Park-Miller, exact in doubles): the same call sequence for both TTLs. */
function seeded(seed: number): () => number {
  let state = seed % 2147483647 || 1;
  return () => {
    state = (state * 48271) % 2147483647;
    return (state - 1) / 2147483646;
  };
}

export interface RuntimeInvokeOptions {
  /** Sequential calls each way for the overhead. @default 300 */
  readonly n?: number;
  /** Rate-limiter decisions per run. @default 2000 */
  readonly decisions?: number;
  /** Calls per cache run. @default 1000 */
  readonly cacheCalls?: number;
}

export async function measureRuntimeInvoke(options: RuntimeInvokeOptions = {}): Promise<RuntimeInvokeBench> {
  const n = options.n ?? 300;
  const decisionsPerRun = options.decisions ?? 2000;
  const cacheCalls = options.cacheCalls ?? 1000;
  const started: EmulatorProcess[] = [];
  const savedEnv = { ddb: process.env.TEST_DYNAMODB_ENDPOINT, fq: process.env.TEST_FAUXQS_ENDPOINT };
  let lambda: LocalLambda | undefined;
  let client: LambdaClient | undefined;
  let t: RuntimeTables | undefined;
  try {
    // Engines named by TEST_DYNAMODB_ENDPOINT / TEST_FAUXQS_ENDPOINT are used (left running) if they answer;
    // else both are started here and stopped at the end.
    const { ddb, fq } = savedEnv;
    if (!ddb || !fq || !(await reachable(ddb)) || !(await reachable(`${fq}/health`))) {
      started.push(await startDynamoDbLocal());
      started.push(await startFauxqs());
      process.env.TEST_DYNAMODB_ENDPOINT = started[0].endpoint;
      process.env.TEST_FAUXQS_ENDPOINT = started[1].endpoint;
    }
    // The registry's maxima raised (defaults: 100/s, burst 200) so no call of parts 1 and 3 is refused: an admitted
    // call costs the limiter the same UpdateItem whatever the limit.
    t = await runtimeTables({ ...DEFAULT_FUNCTION_LIMITS, maxRequestsPerSecond: HIGH.requestsPerSecond, maxBurst: HIGH.burst });
    const tables = t;
    const bucket = uniqueName('bench-invoke-code');
    await createBucket(t.clients.s3, bucket);
    lambda = await startLocalLambda({ s3Endpoint: process.env.TEST_FAUXQS_ENDPOINT! });
    const local = lambda;
    // As the handler's own client: one attempt, same endpoint.
    client = new LambdaClient({ region: REGION, endpoint: lambda.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
    const direct = client;
    const deploy = async (name: string) => {
      await deployPlatformFunction({ lambda: direct, s3: tables.clients.s3, bucket, functionName: awsFunctionName(PREFIX, name), source: ECHO });
      await registerFunction({ name, runtime: 'nodejs24.x', rateLimit: HIGH }, tables.registry);
    };
    const lambdaInvokes = () => local.calls.filter((c) => c.operation === 'Invoke').length;

    // ---- 1. overhead of the platform path over a direct Invoke ----
    configureHandlerEnv({
      [E.REGISTRY_TABLE_NAME]: t.registryTable,
      [E.AUDIT_TABLE_NAME]: t.auditTable,
      [E.FUNCTION_PREFIX]: PREFIX,
      [E.FUNCTION_LIMITS]: '{}',
      [E.RUNTIME_SETTINGS]: '{}', // the defaults: metadata TTL 10 s
      AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint,
      POWERTOOLS_METRICS_DISABLED: 'false',
      POWERTOOLS_LOG_LEVEL: 'INFO', // the 'Invocation recorded' line is written (and swallowed), as in production
    });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(await bundleInvokeHandler());
    const handler: HttpFn = mod.handler;
    const counts: Counts = {};
    countCalls(mod.dynamoDbClient, 'DynamoDB', counts);
    if (mod.documentClient.middlewareStack !== mod.dynamoDbClient.middlewareStack) countCalls(mod.documentClient, 'DynamoDB', counts);
    const snapshot = async (run: () => Promise<unknown>): Promise<Counts> => {
      for (const k of Object.keys(counts)) counts[k] = 0;
      const before = lambdaInvokes();
      await run();
      return nonZero({ ...counts, 'Lambda.Invoke': lambdaInvokes() - before });
    };

    await deploy('echo');
    const fn = awsFunctionName(PREFIX, 'echo');
    const callDirect = async (i: number) => {
      const out = await direct.send(new InvokeCommand({ FunctionName: fn, Qualifier: 'live', Payload: Buffer.from(JSON.stringify({ n: i })) }));
      if (out.FunctionError || !Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8')) throw new Error('bench: direct invoke failed');
    };
    const callPlatform = async (i: number) => {
      const res = await quiet(() => handler(invokeEvent('echo', { n: i }), fakeContext('lambda-runtime-invoke')));
      if (res.statusCode !== 200) throw new Error(`bench: platform invoke answered ${res.statusCode}: ${res.body}`);
    };
    const callsCacheMiss = await snapshot(() => callPlatform(-1)); // the container's first call
    for (let i = 0; i < 30; i++) { await callDirect(i); await callPlatform(i); } // warm: JIT, sockets, the child process
    const callsCacheHit = await snapshot(() => callPlatform(-2));
    const directMs: number[] = [];
    const platformMs: number[] = [];
    for (const k of Object.keys(counts)) counts[k] = 0;
    for (let i = 0; i < n; i++) {
      // Alternating, and which goes first alternates too: drift of the machine's load hits both alike.
      const order = i % 2 === 0 ? ['d', 'p'] : ['p', 'd'];
      for (const which of order) {
        const start = process.hrtime.bigint();
        if (which === 'd') { await callDirect(i); directMs.push(elapsedMs(start)); } else { await callPlatform(i); platformMs.push(elapsedMs(start)); }
      }
    }
    const missesDuringSample = counts['DynamoDB.GetItem'] ?? 0;

    // ---- 2. rate limiter throughput (the module from source, its own DynamoDB client, the real clock) ----
    const limiterDdb = localDynamoDb();
    const limiterDoc = DynamoDBDocumentClient.from(limiterDdb);
    const limiterCounts: Counts = {};
    countCalls(limiterDdb, 'DynamoDB', limiterCounts);
    const rateRun = async (
      label: string, limit: RateLimit, concurrency: number, limiters: number, total = decisionsPerRun,
    ): Promise<RateLimiterRun> => {
      const name = uniqueName('rl').replace(/[^a-z0-9-]/g, '');
      // Several containers: each its own limiter (its own guess of the bucket's state), one table.
      const pool = Array.from({ length: limiters }, () => new RateLimiter({ db: limiterDoc, tableName: tables.registryTable, nowMs: Date.now }));
      for (const k of Object.keys(limiterCounts)) limiterCounts[k] = 0;
      const decisions: RateDecision[] = [];
      let next = 0;
      const start = process.hrtime.bigint();
      await Promise.all(Array.from({ length: concurrency }, async (_, w) => {
        while (next < total) {
          next++;
          decisions.push(await pool[w % limiters].take(name, limit));
        }
      }));
      const wallMs = elapsedMs(start);
      const writes = decisions.map((d) => d.writes);
      const intervalMs = 1000 / limit.requestsPerSecond;
      return {
        label,
        limit,
        decisions: decisions.length,
        concurrency,
        limiters,
        wallMs,
        perSecond: decisions.length / (wallMs / 1000),
        admitted: decisions.filter((d) => d.allowed).length,
        bound: limit.burst + Math.floor(wallMs / intervalMs),
        writesMean: writes.reduce((a, b) => a + b, 0) / writes.length,
        writesMax: Math.max(...writes),
        updateItems: limiterCounts['DynamoDB.UpdateItem'] ?? 0,
      };
    };
    const rateLimiter = [
      await rateRun('high limit, 1 caller', HIGH, 1, 1, Math.ceil(decisionsPerRun / 4)),
      await rateRun('high limit, 32 concurrent', HIGH, 32, 4),
      await rateRun('tight limit, 32 concurrent', { requestsPerSecond: 50, burst: 20 }, 32, 4),
    ];
    limiterDdb.destroy();

    // ---- 3. metadata cache hit rate over a simulated minute (invokeFunction with the handler's wiring) ----
    const FUNCTIONS = 10;
    const WINDOW_S = 60;
    const names = Array.from({ length: FUNCTIONS }, (_, i) => `cached-${i}`);
    for (const name of names) await deploy(name);
    const registryDdb = localDynamoDb();
    const registryDoc = DynamoDBDocumentClient.from(registryDdb, { marshallOptions: { removeUndefinedValues: true } });
    const registryCounts: Counts = {};
    countCalls(registryDdb, 'DynamoDB', registryCounts);
    let simulatedMs = Date.parse('2026-11-29T12:00:00.000Z');
    const cacheRun = async (ttlSeconds: number): Promise<CacheRun> => {
      // Simulated clock: call i at i * window / calls (every 60 ms over a minute); the rate buckets use it too,
      // and each run starts an hour after the last one ended (the clock only moves forward).
      const clock = { ms: simulatedMs + 3_600_000 };
      const nowMs = () => clock.ms;
      const settings = { metadataCacheTtlSeconds: ttlSeconds };
      const services: InvokeServices = {
        lambda: direct,
        functionPrefix: PREFIX,
        cache: createFunctionCache({ ...tables.registry, db: registryDoc, now: () => new Date(clock.ms) }, settings, nowMs),
        rateLimiter: new RateLimiter({ db: registryDoc, tableName: tables.registryTable, nowMs }),
        audit: { db: registryDoc, tableName: tables.auditTable, settings },
        nowMs,
      };
      for (const k of Object.keys(registryCounts)) registryCounts[k] = 0;
      const random = seeded(42);
      const start = process.hrtime.bigint();
      const t0 = clock.ms;
      for (let i = 0; i < cacheCalls; i++) {
        clock.ms = t0 + Math.round((i * WINDOW_S * 1000) / cacheCalls);
        const res = await invokeFunction(names[Math.floor(random() * FUNCTIONS)], '{}', { mode: 'sync', correlationId: `bench-${i}` }, services);
        if (res.statusCode !== 200) throw new Error(`bench: cache run answered ${res.statusCode}: ${res.body}`);
      }
      const wallMs = elapsedMs(start);
      simulatedMs = clock.ms;
      const stats = services.cache.stats();
      return {
        ttlSeconds,
        calls: cacheCalls,
        functions: FUNCTIONS,
        windowSeconds: WINDOW_S,
        hits: stats.hits,
        misses: stats.misses,
        registryGetItems: registryCounts['DynamoDB.GetItem'] ?? 0,
        wallMs,
      };
    };
    const cache = [await cacheRun(10), await cacheRun(0)];
    registryDdb.destroy();

    return {
      overhead: { direct: dist(directMs), platform: dist(platformMs), callsCacheHit, callsCacheMiss, missesDuringSample },
      rateLimiter,
      cache,
    };
  } finally {
    client?.destroy();
    await lambda?.close();
    t?.clients.ddb.destroy();
    await Promise.all(started.map((engine) => engine.stop()));
    if (started.length > 0) {
      // Not left naming engines that are gone.
      for (const [key, value] of [['TEST_DYNAMODB_ENDPOINT', savedEnv.ddb], ['TEST_FAUXQS_ENDPOINT', savedEnv.fq]] as const) {
        if (value === undefined) delete process.env[key]; else process.env[key] = value;
      }
    }
  }
}

/** The bench's report lines (run.ts and this file's own `main`). */
export function printRuntimeInvoke(r: RuntimeInvokeBench): void {
  const ms = (x: number) => `${x.toFixed(2)} ms`;
  const line = (d: Dist) => `p50 ${ms(d.p50)}  p95 ${ms(d.p95)}  p99 ${ms(d.p99)}  max ${ms(d.max)}`;
  const calls = (c: Counts) => Object.entries(c).map(([k, v]) => `${k} x${v}`).join(', ') || 'none';
  const o = r.overhead;
  console.log('LambdaRuntimeService invoke (local: DynamoDB Local, local Lambda endpoint with a warm child process, loopback HTTP; not AWS):');
  console.log(`  ${o.direct.n} sequential calls each way, alternating, echo function on its live alias:`);
  console.log(`    direct SDK Invoke         ${line(o.direct)}`);
  console.log(`    platform (shipped bundle) ${line(o.platform)}`);
  console.log(`    overhead (platform - direct): p50 +${ms(o.platform.p50 - o.direct.p50)}, p99 +${ms(o.platform.p99 - o.direct.p99)}`);
  console.log(`    registry reads during the timed platform calls (TTL 10 s expiring in real time): ${o.missesDuringSample}`);
  console.log(`  AWS calls per platform invoke, warm, cache hit: ${calls(o.callsCacheHit)}`);
  console.log(`  AWS calls per platform invoke, cache miss (the container's first): ${calls(o.callsCacheMiss)}`);
  console.log('  Rate limiter (GCRA, conditional UpdateItem on one item, real clock):');
  for (const x of r.rateLimiter) {
    console.log(`    ${x.label.padEnd(27)} ${x.limit.requestsPerSecond}/s burst ${x.limit.burst}, ${x.decisions} decisions over ${x.limiters} limiter(s): ` +
      `${x.perSecond.toFixed(0)} decisions/s; admitted ${x.admitted} (GCRA bound over ${(x.wallMs / 1000).toFixed(2)} s: ${x.bound}); ` +
      `UpdateItem per decision mean ${x.writesMean.toFixed(2)} max ${x.writesMax} (counted ${x.updateItems})`);
  }
  console.log('  Metadata cache (invokeFunction with real Lambda and DynamoDB calls, simulated clock):');
  const ttl10 = r.cache.find((c) => c.ttlSeconds > 0);
  const ttl0 = r.cache.find((c) => c.ttlSeconds === 0);
  for (const c of r.cache) {
    const rate = c.hits / Math.max(1, c.hits + c.misses);
    console.log(`    TTL ${String(c.ttlSeconds).padStart(2)} s: ${c.calls} calls over ${c.functions} functions in ${c.windowSeconds} s: ` +
      `hit rate ${(rate * 100).toFixed(1)}% (${c.hits} hits, ${c.misses} misses), registry GetItems ${c.registryGetItems} (${(c.wallMs / 1000).toFixed(1)} s wall)`);
  }
  if (ttl10 && ttl0) console.log(`    GetItems saved by the ${ttl10.ttlSeconds} s TTL: ${ttl0.registryGetItems - ttl10.registryGetItems} of ${ttl0.registryGetItems}`);
}

if (require.main === module) {
  const start = Date.now();
  measureRuntimeInvoke({ n: Number(process.env.BENCH_N ?? 300) }).then((r) => {
    printRuntimeInvoke(r);
    console.log(`(${((Date.now() - start) / 1000).toFixed(1)} s)`);
    process.exit(); // the bundle's SDK sockets would keep the process alive
  }, (error) => {
    console.error(error);
    process.exit(1);
  });
}
