import { randomUUID } from 'node:crypto';
import { LambdaError, notFound } from './errors';
import type { FunctionState, FunctionStore, VersionRecord } from './function-store';
import { isNodeRuntime, parseFunctionName } from './names';
import type { RunResult, Runner } from './runner';
import type { RuntimeError } from './runner-child';

/** Lambda's payload limits: 6 MB synchronous both ways, 1 MB for an Event invocation. */
const MAX_SYNC_PAYLOAD = 6_291_456;
const MAX_ASYNC_PAYLOAD = 1_048_576;
const LOG_TAIL_BYTES = 4096;
/** Lambda keeps an unprocessed event for 6 hours unless MaximumEventAgeInSeconds says less. */
const DEFAULT_EVENT_AGE_SECONDS = 21_600;

export interface InvokeRequest {
  readonly functionName: string;
  readonly qualifier?: string;
  readonly invocationType?: string;
  readonly logType?: string;
  readonly clientContext?: string;
  readonly payload: string;
}

export interface InvokeResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** One invocation as it ran, for tests to inspect (logs included). */
export interface InvocationRecord extends Omit<RunResult, 'payload'> {
  readonly requestId: string;
  readonly functionName: string;
  readonly qualifier?: string;
  readonly executedVersion: string;
  readonly invocationType: 'RequestResponse' | 'Event';
}

/**
 * A failed Event invocation after its retries, in the shape of the record Lambda sends to an
 * on-failure destination (SQS, SNS, EventBridge), so a test can forward it to the DLQ the
 * platform configured.
 */
export interface AsyncFailure {
  readonly requestId: string;
  readonly functionName: string;
  readonly executedVersion: string;
  readonly payload: unknown;
  readonly error: RuntimeError;
  readonly attempts: number;
  readonly destinationRecord: Record<string, unknown>;
  /** The OnFailure destination configured with PutFunctionEventInvokeConfig, if any (delivered before onAsyncFailure runs). */
  readonly destination?: string;
}

export interface InvokerOptions {
  readonly random: () => number;
  readonly accountConcurrency: number;
  /** Retries of a failed Event invocation without an EventInvokeConfig (Lambda's default is 2, minutes apart; here immediate). */
  readonly asyncRetryAttempts: number;
  readonly onAsyncFailure?: (failure: AsyncFailure) => void | Promise<void>;
  /** Sends a destination record to an OnSuccess / OnFailure destination. */
  readonly deliver: (destination: string, record: Record<string, unknown>) => Promise<void>;
}

type Throttle = { reason: string } | undefined;

/** Lambda's data plane: qualifier and alias routing, concurrency limits, sync and Event invocations. */
export class Invoker {
  readonly invocations: InvocationRecord[] = [];
  readonly asyncFailures: AsyncFailure[] = [];
  private readonly pending = new Set<Promise<void>>();
  private readonly hookErrors: unknown[] = [];
  private waiters: Array<() => void> = [];

  constructor(private readonly store: FunctionStore, private readonly runner: Runner, private readonly options: InvokerOptions) {}

  async invoke(request: InvokeRequest): Promise<InvokeResponse> {
    const type = request.invocationType ?? 'RequestResponse';
    if (!['RequestResponse', 'Event', 'DryRun'].includes(type)) {
      throw new LambdaError('ValidationException', `1 validation error detected: Value '${type}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]`);
    }
    const limit = type === 'Event' ? MAX_ASYNC_PAYLOAD : MAX_SYNC_PAYLOAD;
    if (Buffer.byteLength(request.payload) > limit) {
      throw new LambdaError('RequestTooLargeException', `Request must be smaller than ${limit} bytes for the ${type === 'Event' ? 'InvokeAsync' : 'InvokeFunction'} operation`);
    }
    const payload = request.payload.trim() === '' ? '{}' : request.payload;
    try {
      JSON.parse(payload);
    } catch (error) {
      throw new LambdaError('InvalidRequestContentException', `Could not parse request body into json: ${(error as Error).message}`);
    }
    const { name, qualifier } = parseFunctionName(request.functionName, request.qualifier);
    const fn = this.store.find(name);
    const record = this.pick(fn, qualifier);
    if (!isNodeRuntime(record.config.Runtime)) {
      throw new LambdaError('InvalidRuntimeException', `The local Lambda endpoint runs nodejs runtimes only; ${record.config.Runtime} cannot be invoked here`);
    }
    const requestId = randomUUID();
    if (type === 'DryRun') return { status: 204, headers: { 'x-amzn-RequestId': requestId }, body: '' };
    if (type === 'Event') {
      // A failing onAsyncFailure hook must not become an unhandled rejection: drain() rethrows it.
      const job = this.runAsync(fn, record, qualifier, payload, requestId)
        .catch((error: unknown) => { this.hookErrors.push(error); })
        .finally(() => this.pending.delete(job));
      this.pending.add(job);
      return { status: 202, headers: { 'x-amzn-RequestId': requestId }, body: '' };
    }
    const throttle = this.throttle(fn);
    if (throttle) {
      throw new LambdaError('TooManyRequestsException', 'Rate Exceeded.', { body: { Reason: throttle.reason }, headers: { 'Retry-After': '1' } });
    }
    const result = await this.run(fn, record, qualifier, payload, requestId, 'RequestResponse', request.clientContext);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-amzn-RequestId': requestId,
      'X-Amz-Executed-Version': record.config.Version,
    };
    let body = result.payload;
    if (Buffer.byteLength(body) > MAX_SYNC_PAYLOAD) {
      body = JSON.stringify({ errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_SYNC_PAYLOAD} bytes).`, errorType: 'Function.ResponseSizeTooLarge' });
      headers['X-Amz-Function-Error'] = 'Unhandled';
    }
    if (result.error) headers['X-Amz-Function-Error'] = 'Unhandled';
    if (request.logType === 'Tail') headers['X-Amz-Log-Result'] = Buffer.from(result.log).subarray(-LOG_TAIL_BYTES).toString('base64');
    return { status: 200, headers, body };
  }

  /** Resolves when every accepted Event invocation has finished (retries included); rejects with a hook's error. */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
    const [first] = this.hookErrors.splice(0);
    if (first !== undefined) throw first;
  }

  /** The version a qualifier runs; an alias with routing weights picks one by the (injectable) random source. */
  private pick(fn: FunctionState, qualifier: string | undefined): VersionRecord {
    const alias = qualifier ? fn.aliases.get(qualifier) : undefined;
    const weights = Object.entries(alias?.RoutingConfig?.AdditionalVersionWeights ?? {});
    if (alias && weights.length > 0) {
      const [version, weight] = weights[0];
      if (this.options.random() < weight) {
        const record = fn.versions.get(version);
        if (!record) throw notFound(this.store.arn(fn.name, version));
        return record;
      }
    }
    return this.store.version(fn, qualifier);
  }

  /** Reserved concurrency caps a function; the others share what the account has left unreserved. */
  private throttle(fn: FunctionState): Throttle {
    if (fn.reservedConcurrency !== undefined) {
      return fn.inFlight >= fn.reservedConcurrency ? { reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' } : undefined;
    }
    const all = [...this.store.functions.values()].filter((f) => f.latest);
    const reserved = all.reduce((sum, f) => sum + (f.reservedConcurrency ?? 0), 0);
    const unreservedInFlight = all.filter((f) => f.reservedConcurrency === undefined).reduce((sum, f) => sum + f.inFlight, 0);
    return unreservedInFlight >= this.options.accountConcurrency - reserved ? { reason: 'ConcurrentInvocationLimitExceeded' } : undefined;
  }

  private async run(
    fn: FunctionState, record: VersionRecord, qualifier: string | undefined, payload: string, requestId: string,
    invocationType: 'RequestResponse' | 'Event', clientContext?: string,
  ): Promise<RunResult> {
    fn.inFlight++;
    try {
      const { config } = record;
      const result = await this.runner.run({
        generation: record.generation,
        functionName: fn.name,
        version: config.Version,
        runtime: config.Runtime,
        handler: config.Handler,
        memorySize: config.MemorySize,
        timeout: config.Timeout,
        environment: config.Environment?.Variables ?? {},
        codeDir: record.code.dir,
      }, { requestId, payload, invokedFunctionArn: this.store.arn(fn.name, qualifier), clientContext });
      const { payload: _, ...rest } = result;
      this.invocations.push({ ...rest, requestId, functionName: fn.name, qualifier, executedVersion: config.Version, invocationType });
      return result;
    } finally {
      fn.inFlight--;
      const waiters = this.waiters;
      this.waiters = [];
      for (const wake of waiters) wake();
    }
  }

  /**
   * Lambda queues Event invocations: a throttled one waits for a free slot (until its maximum
   * event age) instead of failing; a failed one is retried, then its record goes to the
   * destination configured for the qualifier.
   */
  private async runAsync(fn: FunctionState, record: VersionRecord, qualifier: string | undefined, payload: string, requestId: string): Promise<void> {
    const config = fn.eventInvokeConfigs.get(qualifier ?? '$LATEST');
    const retries = config?.MaximumRetryAttempts ?? this.options.asyncRetryAttempts;
    const expires = Date.now() + (config?.MaximumEventAgeInSeconds ?? DEFAULT_EVENT_AGE_SECONDS) * 1000;
    let attempts = 0;
    let result: RunResult | undefined;
    let error: RuntimeError | undefined;
    do {
      if (!(await this.slot(fn, expires))) {
        // A function deleted while the event waited drops it, as Lambda does.
        if (this.store.functions.get(fn.name) !== fn) return;
        error = { errorType: 'EventAgeExceeded', errorMessage: 'The event was throttled until it passed its maximum age' };
        break;
      }
      attempts++;
      result = await this.run(fn, record, qualifier, payload, requestId, 'Event');
      if (this.store.functions.get(fn.name) !== fn) return; // deleted (or the endpoint closed) meanwhile
      error = result.error;
    } while (error && attempts <= retries);

    // The record Lambda sends to a destination (its documented shape), on success and on failure.
    const destinationRecord = {
      version: '1.0',
      timestamp: new Date().toISOString(),
      requestContext: {
        requestId,
        functionArn: this.store.arn(fn.name, qualifier ?? '$LATEST'),
        condition: !error ? 'Success' : result ? 'RetriesExhausted' : 'EventAgeExceeded',
        approximateInvokeCount: attempts,
      },
      requestPayload: JSON.parse(payload),
      ...(result ? {
        responseContext: { statusCode: 200, executedVersion: record.config.Version, ...(error ? { functionError: 'Unhandled' } : {}) },
        responsePayload: JSON.parse(result.payload),
      } : {}),
    };
    const destination = error ? config?.DestinationConfig?.OnFailure?.Destination : config?.DestinationConfig?.OnSuccess?.Destination;
    if (destination) await this.options.deliver(destination, destinationRecord);
    if (!error) return;
    const failure: AsyncFailure = {
      requestId,
      functionName: fn.name,
      executedVersion: record.config.Version,
      payload: JSON.parse(payload),
      error,
      attempts,
      destinationRecord,
      destination,
    };
    this.asyncFailures.push(failure);
    await this.options.onAsyncFailure?.(failure);
  }

  /**
   * Waits until the function may run one more invocation; false when the event expired or the
   * function is gone. Woken by every finished invocation, and polled, since a concurrency change
   * or a deletion frees no slot.
   */
  private async slot(fn: FunctionState, expires: number): Promise<boolean> {
    while (this.throttle(fn)) {
      if (Date.now() >= expires || this.store.functions.get(fn.name) !== fn) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
    return this.store.functions.get(fn.name) === fn;
  }
}
