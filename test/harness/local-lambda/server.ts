import { rmSync } from 'node:fs';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Aliases } from './aliases';
import { codeRoot } from './code';
import { DestinationDelivery, Destinations } from './destinations';
import { LambdaError } from './errors';
import { EventInvokeConfigs } from './event-invoke-config';
import { FunctionState, FunctionStore } from './function-store';
import { AsyncFailure, InvocationRecord, Invoker } from './invoker';
import { Runner } from './runner';

export type { AsyncFailure, InvocationRecord } from './invoker';

export interface LocalLambdaOptions {
  /**
   * fauxqs: the S3 that CreateFunction / UpdateFunctionCode read `S3Bucket` / `S3Key` from, and
   * the SQS / SNS that OnSuccess / OnFailure destinations are delivered to.
   */
  readonly s3Endpoint: string;
  /** @default us-east-1 */
  readonly region?: string;
  /** Picks a version for aliases with routing weights; inject a seeded one for tests. @default Math.random */
  readonly random?: () => number;
  /** The account's concurrency limit. @default 1000 */
  readonly accountConcurrency?: number;
  /** Retries of a failed Event invocation before it counts as failed. @default 0 (AWS: 2, minutes apart) */
  readonly asyncRetryAttempts?: number;
  /**
   * Called with each Event invocation that failed for good, after delivery to its OnFailure
   * destination when PutFunctionEventInvokeConfig set one (SQS and SNS on fauxqs are delivered to).
   */
  readonly onAsyncFailure?: (failure: AsyncFailure) => void | Promise<void>;
  /** Added to every function's environment, e.g. AWS_ENDPOINT_URL_* for the user code's own SDK calls. */
  readonly environment?: Record<string, string>;
}

export interface CapturedLambdaCall {
  readonly operation: string;
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  /** The JSON input of a control-plane call; the raw payload of an Invoke. */
  readonly input: unknown;
  readonly headers: Record<string, string>;
  status?: number;
}

export interface LocalLambda {
  /** The URL for the SDK's `endpoint` or AWS_ENDPOINT_URL_LAMBDA. */
  readonly endpoint: string;
  readonly port: number;
  /** Every function by name: $LATEST, versions, aliases, reserved concurrency, invocations in flight. */
  readonly functions: ReadonlyMap<string, FunctionState>;
  /** Every request in arrival order (failed ones too), with the status answered. */
  readonly calls: CapturedLambdaCall[];
  /** Every invocation run, with its log (START ... REPORT) and whether it was a cold start. */
  readonly invocations: InvocationRecord[];
  readonly asyncFailures: AsyncFailure[];
  /** Records sent (or not: EventBridge, Lambda) to OnSuccess / OnFailure destinations. */
  readonly deliveries: DestinationDelivery[];
  /** Resolves when every accepted Event invocation has finished. */
  drain(): Promise<void>;
  /** Child processes alive (warm sandboxes). */
  liveChildren(): number;
  /** Stops the server, kills every child, removes the stored code. */
  close(): Promise<void>;
}

interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  readonly operation: string;
  readonly status: number;
  readonly handle: (params: string[], input: any, query: Query) => unknown;
}

const FN = '/functions/([^/]+)';

/** The query string: `Qualifier` and the like by name, repeated keys (UntagResource's tagKeys) as a list. */
interface Query {
  readonly Qualifier?: string;
  readonly Marker?: string;
  readonly MaxItems?: string;
  readonly all: (key: string) => string[];
}

function routes(store: FunctionStore): Route[] {
  const aliases = new Aliases(store);
  const eventInvokeConfigs = new EventInvokeConfigs(store);
  const route = (method: string, path: string, operation: string, status: number, handle: Route['handle']): Route =>
    ({ method, pattern: new RegExp(`^${path}$`), operation, status, handle });
  return [
    route('POST', '/2015-03-31/functions/?', 'CreateFunction', 201, (_, input) => store.create(input)),
    route('GET', '/2015-03-31/functions/?', 'ListFunctions', 200, (_, __, q) => store.list(q.Marker, q.MaxItems === undefined ? undefined : Number(q.MaxItems))),
    route('GET', '/2017-03-31/tags/([^/]+)', 'ListTags', 200, ([arn]) => ({ Tags: store.find(arn).tags })),
    route('POST', '/2017-03-31/tags/([^/]+)', 'TagResource', 204, ([arn], input) => { Object.assign(store.find(arn).tags, input.Tags); }),
    route('DELETE', '/2017-03-31/tags/([^/]+)', 'UntagResource', 204, ([arn], _, q) => {
      const fn = store.find(arn);
      for (const key of q.all('tagKeys')) delete fn.tags[key];
    }),
    route('GET', `/2015-03-31${FN}`, 'GetFunction', 200, ([name], _, q) => store.getFunction(name, q.Qualifier)),
    route('DELETE', `/2015-03-31${FN}`, 'DeleteFunction', 204, ([name], _, q) => store.delete(name, q.Qualifier)),
    route('GET', `/2015-03-31${FN}/configuration`, 'GetFunctionConfiguration', 200, ([name], _, q) => store.getFunction(name, q.Qualifier).Configuration),
    route('PUT', `/2015-03-31${FN}/configuration`, 'UpdateFunctionConfiguration', 200, ([name], input) => store.updateConfiguration(name, input)),
    route('PUT', `/2015-03-31${FN}/code`, 'UpdateFunctionCode', 200, ([name], input) => store.updateCode(name, input)),
    route('POST', `/2015-03-31${FN}/versions`, 'PublishVersion', 201, ([name], input) => store.publishVersion(name, input)),
    route('GET', `/2015-03-31${FN}/versions`, 'ListVersionsByFunction', 200, ([name]) => store.listVersions(name)),
    route('POST', `/2015-03-31${FN}/aliases`, 'CreateAlias', 201, ([name], input) => aliases.create(name, input)),
    route('GET', `/2015-03-31${FN}/aliases`, 'ListAliases', 200, ([name]) => aliases.list(name)),
    route('GET', `/2015-03-31${FN}/aliases/([^/]+)`, 'GetAlias', 200, ([name, alias]) => aliases.get(name, alias)),
    route('PUT', `/2015-03-31${FN}/aliases/([^/]+)`, 'UpdateAlias', 200, ([name, alias], input) => aliases.update(name, alias, input)),
    route('DELETE', `/2015-03-31${FN}/aliases/([^/]+)`, 'DeleteAlias', 204, ([name, alias]) => aliases.delete(name, alias)),
    route('PUT', `/2017-10-31${FN}/concurrency`, 'PutFunctionConcurrency', 200, ([name], input) => store.putConcurrency(name, input)),
    route('DELETE', `/2017-10-31${FN}/concurrency`, 'DeleteFunctionConcurrency', 204, ([name]) => store.deleteConcurrency(name)),
    route('GET', `/2019-09-30${FN}/concurrency`, 'GetFunctionConcurrency', 200, ([name]) => store.getConcurrency(name)),
    route('PUT', `/2019-09-25${FN}/event-invoke-config`, 'PutFunctionEventInvokeConfig', 200,
      ([name], input, q) => eventInvokeConfigs.put(name, q.Qualifier, input, false)),
    route('POST', `/2019-09-25${FN}/event-invoke-config`, 'UpdateFunctionEventInvokeConfig', 200,
      ([name], input, q) => eventInvokeConfigs.put(name, q.Qualifier, input, true)),
    route('GET', `/2019-09-25${FN}/event-invoke-config`, 'GetFunctionEventInvokeConfig', 200, ([name], _, q) => eventInvokeConfigs.get(name, q.Qualifier)),
    route('DELETE', `/2019-09-25${FN}/event-invoke-config`, 'DeleteFunctionEventInvokeConfig', 204,
      ([name], _, q) => eventInvokeConfigs.delete(name, q.Qualifier)),
  ];
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function sendError(res: ServerResponse, error: unknown): number {
  const e = error instanceof LambdaError ? error : new LambdaError('ServiceException', `Local Lambda failure: ${String((error as Error)?.stack ?? error)}`);
  res.writeHead(e.statusCode, { 'content-type': 'application/json', 'x-amzn-ErrorType': e.type, ...e.extra.headers });
  res.end(JSON.stringify(e.body()));
  return e.statusCode;
}

/**
 * A local endpoint speaking Lambda's REST-JSON wire protocol: the control plane the platform
 * deploys with, and an Invoke that runs the stored ZIP's handler for real in child processes.
 *
 * Operations: CreateFunction, GetFunction, GetFunctionConfiguration, ListFunctions,
 * UpdateFunctionCode, UpdateFunctionConfiguration, DeleteFunction (function or version),
 * PublishVersion, ListVersionsByFunction, Create/Get/Update/Delete/ListAlias(es),
 * Put/Get/DeleteFunctionConcurrency, Put/Update/Get/DeleteFunctionEventInvokeConfig,
 * TagResource/UntagResource/ListTags, Invoke (RequestResponse, Event, DryRun; LogType Tail).
 * Not served: permissions (AddPermission), layers, function URLs, event source mappings,
 * provisioned concurrency, container images, response streaming, non-nodejs execution.
 * Where it is simpler than AWS: updates complete within the call (State Active,
 * LastUpdateStatus Successful at once), Event retries run without Lambda's minute-long
 * back-off, no IAM checks.
 */
export async function startLocalLambda(options: LocalLambdaOptions): Promise<LocalLambda> {
  const region = options.region ?? 'us-east-1';
  const accountConcurrency = options.accountConcurrency ?? 1000;
  const root = codeRoot();
  const runner = new Runner({ region, workDir: root, environment: options.environment });
  const store = new FunctionStore({ region, s3Endpoint: options.s3Endpoint, codeRoot: root, accountConcurrency, retire: (g) => runner.retire(g) });
  // fauxqs serves SQS and SNS on the same endpoint as S3.
  const destinations = new Destinations(options.s3Endpoint, region);
  const invoker = new Invoker(store, runner, {
    deliver: (destination, record) => destinations.deliver(destination, record),
    random: options.random ?? Math.random,
    accountConcurrency,
    asyncRetryAttempts: options.asyncRetryAttempts ?? 0,
    onAsyncFailure: options.onAsyncFailure,
  });
  const table = routes(store);
  const calls: CapturedLambdaCall[] = [];

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const query = Object.fromEntries(url.searchParams);
    const method = req.method ?? 'GET';
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k.startsWith('x-amz-')).map(([k, v]) => [k, String(v)]));
    const call: CapturedLambdaCall = { operation: 'Unknown', method, path: url.pathname, query, input: undefined, headers };
    calls.push(call);
    try {
      const raw = await readBody(req);
      const invoke = new RegExp(`^/2015-03-31${FN}/invocations$`).exec(url.pathname);
      if (invoke && method === 'POST') {
        Object.assign(call, { operation: 'Invoke', input: raw });
        const answer = await invoker.invoke({
          functionName: decodeURIComponent(invoke[1]),
          qualifier: query.Qualifier,
          invocationType: req.headers['x-amz-invocation-type'] as string | undefined,
          logType: req.headers['x-amz-log-type'] as string | undefined,
          clientContext: req.headers['x-amz-client-context'] as string | undefined,
          payload: raw,
        });
        res.writeHead(answer.status, answer.headers);
        res.end(answer.body);
        call.status = answer.status;
        return;
      }
      const route = table.find((r) => r.method === method && r.pattern.test(url.pathname));
      if (!route) throw new LambdaError('ResourceNotFoundException', `No local Lambda operation for ${method} ${url.pathname}`);
      let input: unknown;
      try {
        input = raw ? JSON.parse(raw) : {};
      } catch (error) {
        throw new LambdaError('InvalidRequestContentException', `Could not parse request body into json: ${(error as Error).message}`);
      }
      Object.assign(call, { operation: route.operation, input });
      const params = route.pattern.exec(url.pathname)!.slice(1).map(decodeURIComponent);
      const output = await route.handle(params, input, { ...query, all: (key) => url.searchParams.getAll(key) });
      res.writeHead(route.status, { 'content-type': 'application/json' });
      res.end(route.status === 204 ? undefined : JSON.stringify(output ?? {}));
      call.status = route.status;
    } catch (error) {
      call.status = sendError(res, error);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    functions: store.functions,
    calls,
    invocations: invoker.invocations,
    asyncFailures: invoker.asyncFailures,
    deliveries: destinations.deliveries,
    drain: () => invoker.drain(),
    liveChildren: () => runner.liveChildren(),
    close: async () => {
      // Queued Event invocations see their function gone and stop; running children are killed.
      store.functions.clear();
      await runner.close();
      await invoker.drain().catch(() => undefined); // a hook's error was the test's to see through drain()
      destinations.close();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      rmSync(root, { recursive: true, force: true });
    },
  };
}
