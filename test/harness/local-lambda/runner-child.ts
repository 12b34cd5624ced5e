/**
 * The runtime inside one child process: Lambda's Node.js runtime reduced to what a handler
 * can observe. It loads `{module}.{export}` from LAMBDA_TASK_ROOT once (the init phase), then
 * runs one invocation at a time on request of the parent over the IPC channel. Output is sent
 * over the same channel, so each log line reaches the parent before its invocation's result.
 * Bundled by esbuild into a plain CommonJS file (runner.ts), so it may import node builtins only.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';

export interface InvokeMessage {
  readonly type: 'invoke';
  readonly requestId: string;
  readonly payload: string;
  readonly deadline: number;
  readonly invokedFunctionArn: string;
  readonly clientContext?: string;
}

export interface RuntimeError {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace?: string[];
}

export type ChildMessage =
  | { type: 'ready' }
  | { type: 'init-error'; error: RuntimeError }
  | { type: 'log'; data: string }
  | { type: 'result'; requestId: string; payload: string; rss: number }
  | { type: 'error'; requestId: string; error: RuntimeError; rss: number; fatal?: boolean };

class RuntimeFailure extends Error {
  constructor(readonly errorType: string, message: string) {
    super(message);
  }
}

const send = (message: ChildMessage, then?: () => void) => process.send!(message, undefined, undefined, then);
let currentRequest: string | undefined;

function toRuntimeError(error: unknown): RuntimeError {
  if (error instanceof RuntimeFailure) return { errorType: error.errorType, errorMessage: error.message };
  if (error instanceof Error) {
    return { errorType: error.name || error.constructor?.name || 'Error', errorMessage: error.message, trace: (error.stack ?? '').split('\n') };
  }
  return { errorType: typeof error, errorMessage: String(error), trace: [] };
}

// Every write goes to the parent in order with the results; Lambda's console adds time, request id and level.
for (const stream of [process.stdout, process.stderr]) {
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    send({ type: 'log', data: typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8') });
    const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    done?.();
    return true;
  }) as typeof stream.write;
}
for (const [method, level] of [['log', 'INFO'], ['info', 'INFO'], ['warn', 'WARN'], ['error', 'ERROR'], ['debug', 'DEBUG'], ['trace', 'TRACE']] as const) {
  console[method] = (...args: unknown[]) => {
    send({ type: 'log', data: `${new Date().toISOString()}\t${currentRequest ?? 'undefined'}\t${level}\t${format(...args)}\n` });
  };
}

function isEsm(file: string): boolean {
  if (file.endsWith('.mjs')) return true;
  if (file.endsWith('.cjs')) return false;
  // A .js file is ESM when the nearest package.json says "type": "module", as Node decides.
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        return JSON.parse(readFileSync(pkg, 'utf8')).type === 'module';
      } catch {
        return false;
      }
    }
    if (dir === path.dirname(dir)) return false;
  }
}

/** `dir/module.export.path` → the function, as the Node.js runtime resolves it. */
async function loadHandler(root: string, handlerSetting: string): Promise<(...args: unknown[]) => unknown> {
  const base = path.basename(handlerSetting);
  const match = /^([^.]*)\.(.*)$/.exec(base);
  if (!match) throw new RuntimeFailure('Runtime.MalformedHandlerName', 'Bad handler');
  const modulePath = path.resolve(root, path.dirname(handlerSetting), match[1]);
  const file = ['.js', '.mjs', '.cjs', ''].map((ext) => modulePath + ext).find((f) => existsSync(f));
  if (!file) throw new RuntimeFailure('Runtime.ImportModuleError', `Error: Cannot find module '${match[1]}'`);
  let moduleExports: any;
  try {
    moduleExports = isEsm(file) ? await import(pathToFileURL(file).href) : createRequire(file)(file);
  } catch (error) {
    if (error instanceof SyntaxError) throw new RuntimeFailure('Runtime.UserCodeSyntaxError', `${error.name}: ${error.message}`);
    if ((error as { code?: string }).code === 'MODULE_NOT_FOUND') throw new RuntimeFailure('Runtime.ImportModuleError', `Error: ${(error as Error).message}`);
    throw error;
  }
  const handler = match[2].split('.').reduce((obj, key) => (obj == null ? undefined : obj[key]), moduleExports);
  if (typeof handler !== 'function') throw new RuntimeFailure('Runtime.HandlerNotFound', `${base} is undefined or not exported`);
  return handler;
}

function callHandler(handler: (...args: unknown[]) => unknown, event: unknown, context: object): Promise<unknown> {
  return new Promise((resolve, reject) => {
    // Callback-style handlers (three parameters, no promise) finish through the callback.
    const callback = (error: unknown, result: unknown) => (error ? reject(error) : resolve(result));
    try {
      const returned = handler(event, context, callback);
      if (returned && typeof (returned as Promise<unknown>).then === 'function') (returned as Promise<unknown>).then(resolve, reject);
      else if (handler.length < 3) resolve(returned);
    } catch (error) {
      reject(error);
    }
  });
}

async function invoke(handler: (...args: unknown[]) => unknown, message: InvokeMessage): Promise<void> {
  currentRequest = message.requestId;
  const env = process.env;
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: message.invokedFunctionArn,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: message.requestId,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: message.clientContext ? JSON.parse(Buffer.from(message.clientContext, 'base64').toString('utf8')) : undefined,
    identity: undefined,
    getRemainingTimeInMillis: () => Math.max(0, message.deadline - Date.now()),
  };
  try {
    const event = JSON.parse(message.payload || 'null');
    const result = await callHandler(handler, event, context);
    send({ type: 'result', requestId: message.requestId, payload: JSON.stringify(result === undefined ? null : result), rss: process.memoryUsage().rss });
  } catch (error) {
    send({ type: 'error', requestId: message.requestId, error: toRuntimeError(error), rss: process.memoryUsage().rss });
  } finally {
    currentRequest = undefined;
  }
}

/** An error outside any awaited path ends the process, as it ends a Lambda sandbox. */
function fatal(errorType: string | undefined, error: unknown): void {
  const runtimeError = toRuntimeError(error);
  const reported = errorType ? { ...runtimeError, errorType, errorMessage: `${runtimeError.errorType}: ${runtimeError.errorMessage}` } : runtimeError;
  send({ type: 'error', requestId: currentRequest ?? '', error: reported, rss: process.memoryUsage().rss, fatal: true }, () => process.exit(1));
}

async function main(): Promise<void> {
  // A parent that died (a killed jest worker) must not leave this sandbox running.
  process.on('disconnect', () => process.exit(0));
  process.on('uncaughtException', (error) => fatal(undefined, error));
  process.on('unhandledRejection', (reason) => fatal('Runtime.UnhandledPromiseRejection', reason));
  let handler: (...args: unknown[]) => unknown;
  try {
    handler = await loadHandler(process.env.LAMBDA_TASK_ROOT!, process.env._HANDLER!);
  } catch (error) {
    send({ type: 'init-error', error: toRuntimeError(error) }, () => process.exit(1));
    return;
  }
  process.on('message', (message: InvokeMessage) => {
    if (message.type === 'invoke') void invoke(handler, message);
  });
  send({ type: 'ready' });
}

void main();
