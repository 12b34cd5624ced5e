import { ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import type { ChildMessage, InvokeMessage, RuntimeError } from './runner-child';

/** What a child needs to run one function version. */
export interface RunSpec {
  /** The warm pool this version's children belong to (changes with $LATEST). */
  readonly generation: string;
  readonly functionName: string;
  readonly version: string;
  readonly runtime: string;
  readonly handler: string;
  readonly memorySize: number;
  readonly timeout: number;
  readonly environment: Record<string, string>;
  readonly codeDir: string;
}

export interface RunInput {
  readonly requestId: string;
  readonly payload: string;
  readonly invokedFunctionArn: string;
  readonly clientContext?: string;
}

export interface RunResult {
  /** The JSON the function returned, or the runtime's error document. */
  readonly payload: string;
  readonly error?: RuntimeError;
  /** Lambda's log for this invocation: START, the function's output, END, REPORT. */
  readonly log: string;
  readonly durationMs: number;
  readonly coldStart: boolean;
}

/** Lambda gives the init phase 10 s of its own, outside the function's timeout. */
const INIT_LIMIT_MS = 10_000;

interface Worker {
  readonly child: ChildProcess;
  readonly generation: string;
  readonly ready: Promise<RuntimeError | undefined>;
  busy: boolean;
  exited: boolean;
  /** Output of the invocation in progress (one at a time per child). */
  output: string[];
  onMessage?: (message: ChildMessage) => void;
  onExit?: (code: number | null, signal: string | null) => void;
}

export interface RunnerOptions {
  readonly region: string;
  /** Where the bundled child runtime is written. */
  readonly workDir: string;
  /** Added to every function's environment (local endpoints for the user code's SDK). */
  readonly environment?: Record<string, string>;
}

/**
 * Runs function versions in warm child processes: one invocation at a time per child, a new
 * child when all are busy, a fresh pool when $LATEST changes. The invoker decides how many
 * may run (reserved concurrency); the runner only runs them.
 */
export class Runner {
  private readonly pools = new Map<string, Worker[]>();
  private readonly retired = new Set<string>();
  /** Every child alive, pooled or not (a retired pool's busy child is in no pool), for close(). */
  private readonly alive = new Set<Worker>();
  private readonly childFile: string;
  /** NODE_PATH entry holding only `@aws-sdk`, as the Node.js runtime provides the SDK v3 to code that does not bundle it. */
  private readonly runtimeModules: string;
  private closed = false;

  constructor(private readonly options: RunnerOptions) {
    this.childFile = path.join(options.workDir, 'runtime.cjs');
    buildSync({
      entryPoints: [path.join(__dirname, 'runner-child.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      outfile: this.childFile,
      logLevel: 'silent',
    });
    // A symlink to the project's SDK and nothing else: a ZIP missing its other dependencies fails here as in AWS.
    this.runtimeModules = path.join(options.workDir, 'runtime-node_modules');
    mkdirSync(this.runtimeModules, { recursive: true });
    const sdk = path.join(__dirname, '..', '..', '..', 'node_modules', '@aws-sdk');
    if (existsSync(sdk)) symlinkSync(sdk, path.join(this.runtimeModules, '@aws-sdk'), 'dir');
  }

  /** Children alive (warm or busy), for tests that check reuse and clean-up. */
  liveChildren(): number {
    return this.alive.size;
  }

  async run(spec: RunSpec, input: RunInput): Promise<RunResult> {
    if (this.closed) {
      // An Event invocation still queued when the endpoint closes: answered, never run.
      const error = { errorType: 'LocalLambda.Closed', errorMessage: 'The local Lambda endpoint was closed' };
      return { payload: JSON.stringify(error), error, log: '', durationMs: 0, coldStart: false };
    }
    const started = Date.now();
    const idle = (this.pools.get(spec.generation) ?? []).find((w) => !w.busy && !w.exited);
    const worker = idle ?? this.spawn(spec);
    worker.busy = true;
    worker.output = [];
    try {
      const initError = await withTimeout(worker.ready, INIT_LIMIT_MS);
      const initMs = Date.now() - started;
      if (initError === 'timeout' || initError) {
        const error = initError === 'timeout'
          ? { errorType: 'Sandbox.Timedout', errorMessage: `INIT_REPORT Init Duration: ${INIT_LIMIT_MS}.00 ms Phase: init Status: timeout` }
          : initError;
        this.kill(worker);
        return this.finish(spec, input, worker, started, !idle, { error }, initMs);
      }
      const outcome = await this.invoke(spec, input, worker);
      return this.finish(spec, input, worker, started + (idle ? 0 : initMs), !idle, outcome, idle ? undefined : initMs);
    } finally {
      worker.busy = false;
      if (this.retired.has(worker.generation)) this.kill(worker);
    }
  }

  /** Stops the children of a version that can no longer be invoked; busy ones stop when done. */
  retire(generation: string): void {
    this.retired.add(generation);
    for (const worker of this.pools.get(generation) ?? []) if (!worker.busy) this.kill(worker);
    this.pools.delete(generation);
  }

  /** Kills every child and resolves when all have exited. */
  async close(): Promise<void> {
    this.closed = true;
    const exits = [...this.alive].map((worker) => new Promise<void>((resolve) => {
      if (worker.child.exitCode !== null || worker.child.signalCode !== null) resolve();
      else worker.child.once('exit', () => resolve());
    }));
    for (const worker of this.alive) this.kill(worker);
    this.pools.clear();
    await Promise.all(exits);
  }

  private spawn(spec: RunSpec): Worker {
    const now = new Date();
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      ...this.options.environment,
      ...spec.environment,
      // Lambda's own variables come last: functions cannot set them (CreateFunction refuses).
      LAMBDA_TASK_ROOT: spec.codeDir,
      LAMBDA_RUNTIME_DIR: path.dirname(this.childFile),
      NODE_PATH: [this.runtimeModules, spec.codeDir].join(path.delimiter),
      _HANDLER: spec.handler,
      AWS_REGION: this.options.region,
      AWS_DEFAULT_REGION: this.options.region,
      AWS_EXECUTION_ENV: `AWS_Lambda_${spec.runtime}`,
      AWS_LAMBDA_FUNCTION_NAME: spec.functionName,
      AWS_LAMBDA_FUNCTION_VERSION: spec.version,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memorySize),
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${spec.functionName}`,
      AWS_LAMBDA_LOG_STREAM_NAME: `${now.toISOString().slice(0, 10).replace(/-/g, '/')}/[${spec.version}]${randomUUID().replace(/-/g, '')}`,
    };
    const child = fork(this.childFile, [], {
      cwd: spec.codeDir,
      env,
      // The Node.js runtime sizes the heap from the function's memory in the same way.
      execArgv: [`--max-old-space-size=${Math.floor(spec.memorySize * 0.9)}`],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let settleReady: (error: RuntimeError | undefined) => void = () => undefined;
    const worker: Worker = {
      child,
      generation: spec.generation,
      ready: new Promise((resolve) => { settleReady = resolve; }),
      busy: false,
      exited: false,
      output: [],
    };
    // Writes that bypass process.stdout (native code, fs.writeSync(1)) still reach the log, in rough order.
    const raw = (chunk: Buffer) => worker.output.push(chunk.toString('utf8'));
    child.stdout!.on('data', raw);
    child.stderr!.on('data', raw);
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'ready') settleReady(undefined);
      else if (message.type === 'init-error') settleReady(message.error);
      else if (message.type === 'log') worker.output.push(message.data);
      else worker.onMessage?.(message);
    });
    this.alive.add(worker);
    child.on('exit', (code, signal) => {
      worker.exited = true;
      this.alive.delete(worker);
      settleReady({ errorType: 'Runtime.ExitError', errorMessage: `Runtime exited during init with ${signal ? `signal: ${signal}` : `exit status ${code}`}` });
      worker.onExit?.(code, signal);
    });
    // Dead children (timed out, crashed) leave the pool when the next one joins it.
    const pool = (this.pools.get(spec.generation) ?? []).filter((w) => !w.exited);
    pool.push(worker);
    this.pools.set(spec.generation, pool);
    return worker;
  }

  private invoke(spec: RunSpec, input: RunInput, worker: Worker): Promise<{ payload?: string; error?: RuntimeError; rss?: number }> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        // A timed-out sandbox is discarded: whatever the handler still does must not leak into the next call.
        this.kill(worker);
        resolve({ error: { errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${input.requestId} Error: Task timed out after ${spec.timeout.toFixed(2)} seconds` } });
      }, spec.timeout * 1000);
      const done = (outcome: { payload?: string; error?: RuntimeError; rss?: number }) => {
        clearTimeout(timer);
        worker.onMessage = undefined;
        worker.onExit = undefined;
        resolve(outcome);
      };
      worker.onMessage = (message) => {
        if (message.type === 'result') {done({ payload: message.payload, rss: message.rss });} else if (message.type === 'error') {
          if (message.fatal) this.kill(worker);
          done({ error: message.error, rss: message.rss });
        }
      };
      worker.onExit = (code, signal) => done({
        error: { errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${input.requestId} Error: Runtime exited with error: ${signal ? `signal: ${signal}` : `exit status ${code}`}` },
      });
      const message: InvokeMessage = {
        type: 'invoke',
        requestId: input.requestId,
        payload: input.payload,
        deadline: Date.now() + spec.timeout * 1000,
        invokedFunctionArn: input.invokedFunctionArn,
        clientContext: input.clientContext,
      };
      worker.child.send(message);
    });
  }

  private finish(
    spec: RunSpec, input: RunInput, worker: Worker, started: number, coldStart: boolean,
    outcome: { payload?: string; error?: RuntimeError; rss?: number }, initMs?: number,
  ): RunResult {
    const durationMs = Date.now() - started;
    const rssMb = Math.ceil((outcome.rss ?? 0) / 1024 / 1024);
    const log = [
      `START RequestId: ${input.requestId} Version: ${spec.version}\n`,
      ...worker.output,
      `END RequestId: ${input.requestId}\n`,
      `REPORT RequestId: ${input.requestId}\tDuration: ${durationMs.toFixed(2)} ms\tBilled Duration: ${Math.ceil(durationMs)} ms\t`
        + `Memory Size: ${spec.memorySize} MB\tMax Memory Used: ${rssMb} MB\t${initMs === undefined ? '' : `Init Duration: ${initMs.toFixed(2)} ms\t`}\n`,
    ].join('');
    worker.output = [];
    const payload = outcome.error ? JSON.stringify(outcome.error) : outcome.payload ?? 'null';
    return { payload, error: outcome.error, log, durationMs, coldStart };
  }

  private kill(worker: Worker): void {
    if (!worker.exited) worker.child.kill('SIGKILL');
    worker.exited = true;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), ms); }),
  ]);
}
