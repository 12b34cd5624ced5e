import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvokeCommand, type InvokeCommandOutput, type LambdaClient } from '@aws-sdk/client-lambda';

/**
 * EventBridge Scheduler's REST-JSON wire protocol, enough for @aws-sdk/client-scheduler:
 * CreateScheduleGroup, CreateSchedule, UpdateSchedule, GetSchedule, DeleteSchedule and
 * ListSchedules. Scheduler has no local engine on npm, so the real handler bundle's calls are
 * served (and captured) here, at the network boundary, not mocked in the client.
 *
 * Wire shapes (checked against the SDK's schema in @aws-sdk/client-scheduler 3.1169):
 * - Create `POST /schedules/{Name}`, Update `PUT /schedules/{Name}`: everything else in the JSON
 *   body, `GroupName` included; `StartDate`/`EndDate` as epoch seconds.
 * - Get `GET` and Delete `DELETE /schedules/{Name}?groupName=` (Delete also `clientToken=`).
 * - List `GET /schedules?ScheduleGroup=&NamePrefix=&State=&NextToken=&MaxResults=` →
 *   `{ Schedules: [summary], NextToken? }`; a summary holds Arn, Name, GroupName, State,
 *   CreationDate, LastModificationDate and `Target: { Arn }` only (no expression, no input).
 * - Errors: status + `x-amzn-errortype` header + `{ Message }`.
 *
 * Simpler than AWS: no IAM checks (RoleArn is checked for shape only), no ClientToken replay,
 * no time: nothing runs by itself, `fire()` runs a schedule when a test says so; an `at()`
 * schedule with ActionAfterCompletion DELETE is not deleted after firing.
 */

export type SchedulerErrorType =
  | 'ConflictException' | 'ResourceNotFoundException' | 'ValidationException'
  | 'ThrottlingException' | 'InternalServerException' | 'ServiceQuotaExceededException';

const STATUS: Record<SchedulerErrorType, number> = {
  ConflictException: 409,
  ResourceNotFoundException: 404,
  ValidationException: 400,
  ThrottlingException: 429,
  InternalServerException: 500,
  ServiceQuotaExceededException: 402,
};

export class SchedulerError extends Error {
  constructor(readonly type: SchedulerErrorType, message: string) {
    super(message);
  }
}

export interface ScheduleTarget {
  readonly Arn: string;
  readonly RoleArn: string;
  readonly Input?: string;
  readonly DeadLetterConfig?: { readonly Arn?: string };
  readonly RetryPolicy?: { readonly MaximumRetryAttempts?: number; readonly MaximumEventAgeInSeconds?: number };
  readonly [other: string]: unknown;
}

/** A schedule as GetSchedule returns it. */
export interface StoredSchedule {
  readonly Arn: string;
  readonly Name: string;
  readonly GroupName: string;
  readonly ScheduleExpression: string;
  readonly ScheduleExpressionTimezone?: string;
  readonly State: 'ENABLED' | 'DISABLED';
  readonly Description?: string;
  readonly StartDate?: number;
  readonly EndDate?: number;
  readonly KmsKeyArn?: string;
  readonly FlexibleTimeWindow: { readonly Mode: 'OFF' | 'FLEXIBLE'; readonly MaximumWindowInMinutes?: number };
  readonly Target: ScheduleTarget;
  readonly ActionAfterCompletion?: 'NONE' | 'DELETE';
  readonly CreationDate: number;
  readonly LastModificationDate: number;
}

export interface CapturedSchedulerCall {
  readonly operation: string;
  readonly method: string;
  readonly path: string;
  /** The schedule (or group) name of the path, decoded. */
  readonly name?: string;
  readonly query: Record<string, string>;
  readonly input: any;
  status?: number;
  errorType?: string;
}

/** What `fire()` did: the target invoked the way Scheduler invokes a Lambda target (async). */
export interface ScheduleFiring {
  readonly groupName: string;
  readonly name: string;
  readonly targetArn: string;
  readonly input: string;
  readonly output: InvokeCommandOutput;
}

export interface LocalSchedulerOptions {
  /** The client `fire()` invokes Lambda targets through (e.g. one pointed at the local Lambda endpoint). */
  readonly lambda?: LambdaClient;
  /** Groups that exist besides `default` (CreateScheduleGroup adds more). */
  readonly groups?: readonly string[];
  /** The largest page ListSchedules answers, whatever MaxResults asks (so tests can force paging). @default 100 */
  readonly pageSize?: number;
  /** @default us-east-1 */
  readonly region?: string;
}

export interface LocalScheduler {
  /** The URL for the SDK's `endpoint` or AWS_ENDPOINT_URL_SCHEDULER. */
  readonly endpoint: string;
  /** Every request in arrival order (failed ones too), with the status answered. */
  readonly calls: CapturedSchedulerCall[];
  readonly firings: ScheduleFiring[];
  /** Schedules stored now, by group then name; optionally of one group. */
  schedules(groupName?: string): StoredSchedule[];
  get(groupName: string, name: string): StoredSchedule | undefined;
  /** Answers the next `times` calls that `match` with an error of `type` (a Scheduler outage, a throttle). */
  failCalls(match: (call: CapturedSchedulerCall) => boolean, times: number, type?: SchedulerErrorType): void;
  /** Ends every failure injection (the outage is over). */
  clearFailures(): void;
  /** Does what Scheduler does when the schedule is due: an Event Invoke of its Lambda target with its Input. */
  fire(groupName: string, name: string): Promise<ScheduleFiring>;
  stop(): Promise<void>;
}

const ACCOUNT = '000000000000';
const SCHEDULE_NAME = /^[0-9a-zA-Z-_.]{1,64}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@\-/]+$/;
const SQS_ARN = /^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[a-zA-Z0-9_.-]+$/;
const LAMBDA_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[a-zA-Z0-9-_]+(:[a-zA-Z0-9-_$]+)?$/;
// Shapes only, as Scheduler's first check does; the construct's validation checks the fields.
const EXPRESSION = /^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\((\S+ ){5}\S+\)|at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\))$/;

const invalid = (message: string) => new SchedulerError('ValidationException', message);

function validTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function inRange(value: unknown, min: number, max: number): boolean {
  return value === undefined || (Number.isInteger(value) && (value as number) >= min && (value as number) <= max);
}

/** The checks Scheduler makes of a Create/Update body before it looks at what is stored. */
function validateSchedule(name: string, input: any): void {
  if (!SCHEDULE_NAME.test(name)) throw invalid(`Value '${name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9a-zA-Z-_.]+ and length 1-64`);
  if (typeof input.ScheduleExpression !== 'string' || !EXPRESSION.test(input.ScheduleExpression)) {
    throw invalid(`Invalid Schedule Expression ${String(input.ScheduleExpression)}.`);
  }
  if (input.ScheduleExpressionTimezone !== undefined && !validTimeZone(input.ScheduleExpressionTimezone)) {
    throw invalid(`Invalid time zone ${String(input.ScheduleExpressionTimezone)}.`);
  }
  const window = input.FlexibleTimeWindow;
  if (!window || !['OFF', 'FLEXIBLE'].includes(window.Mode)) throw invalid("FlexibleTimeWindow.Mode must be 'OFF' or 'FLEXIBLE'.");
  if (window.Mode === 'FLEXIBLE' && !inRange(window.MaximumWindowInMinutes ?? 0, 1, 1440)) throw invalid('MaximumWindowInMinutes must be 1-1440 when Mode is FLEXIBLE.');
  if (window.Mode === 'OFF' && window.MaximumWindowInMinutes !== undefined) throw invalid('MaximumWindowInMinutes is only allowed when Mode is FLEXIBLE.');
  const target = input.Target;
  if (!target || typeof target.Arn !== 'string' || target.Arn.length === 0) throw invalid('Target.Arn is required.');
  if (typeof target.RoleArn !== 'string' || !ROLE_ARN.test(target.RoleArn)) throw invalid(`Invalid RoleArn ${String(target?.RoleArn)}.`);
  if (target.Input !== undefined && (typeof target.Input !== 'string' || target.Input.length > 8192)) throw invalid('Target.Input must be at most 8192 characters.');
  if (target.DeadLetterConfig?.Arn !== undefined && !SQS_ARN.test(target.DeadLetterConfig.Arn)) throw invalid(`Invalid DeadLetterConfig Arn ${target.DeadLetterConfig.Arn}.`);
  if (!inRange(target.RetryPolicy?.MaximumRetryAttempts, 0, 185)) throw invalid('MaximumRetryAttempts must be 0-185.');
  if (!inRange(target.RetryPolicy?.MaximumEventAgeInSeconds, 60, 86400)) throw invalid('MaximumEventAgeInSeconds must be 60-86400.');
  if (input.State !== undefined && !['ENABLED', 'DISABLED'].includes(input.State)) throw invalid("State must be 'ENABLED' or 'DISABLED'.");
  if (input.ActionAfterCompletion !== undefined && !['NONE', 'DELETE'].includes(input.ActionAfterCompletion)) {
    throw invalid("ActionAfterCompletion must be 'NONE' or 'DELETE'.");
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

// A page token names the last schedule of the page: the next page starts after it (stable while schedules change).
const encodeToken = (group: string, name: string) => Buffer.from(JSON.stringify([group, name])).toString('base64url');
function decodeToken(token: string): [string, string] {
  try {
    const value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'string')) return value as [string, string];
  } catch { /* refused below */ }
  throw invalid('Invalid NextToken.');
}

export async function startLocalScheduler(options: LocalSchedulerOptions = {}): Promise<LocalScheduler> {
  const region = options.region ?? 'us-east-1';
  const pageSize = options.pageSize ?? 100;
  const groups = new Set(['default', ...(options.groups ?? [])]);
  // key: `${group}\u0000${name}`, so sorting the keys sorts by group, then name.
  const store = new Map<string, StoredSchedule>();
  const calls: CapturedSchedulerCall[] = [];
  const firings: ScheduleFiring[] = [];
  const failures: Array<{ match: (call: CapturedSchedulerCall) => boolean; left: number; type: SchedulerErrorType }> = [];
  const key = (group: string, name: string) => `${group}\u0000${name}`;
  const arnOf = (group: string, name: string) => `arn:aws:scheduler:${region}:${ACCOUNT}:schedule/${group}/${name}`;
  const now = () => Math.floor(Date.now() / 1000);
  const sorted = () => [...store.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, s]) => s);

  const groupOf = (requested: unknown): string => {
    const group = typeof requested === 'string' && requested ? requested : 'default';
    if (!groups.has(group)) throw new SchedulerError('ResourceNotFoundException', `Schedule group ${group} does not exist.`);
    return group;
  };
  const existing = (group: string, name: string): StoredSchedule => {
    const schedule = store.get(key(group, name));
    if (!schedule) throw new SchedulerError('ResourceNotFoundException', `Schedule ${name} does not exist.`);
    return schedule;
  };
  /** Create and Update both store the whole body: Update is a full replace, fields left out are gone. */
  const write = (name: string, input: any, created?: StoredSchedule): StoredSchedule => {
    const group = groupOf(input.GroupName);
    const at = now();
    const schedule: StoredSchedule = {
      Arn: arnOf(group, name),
      Name: name,
      GroupName: group,
      ScheduleExpression: input.ScheduleExpression,
      ...(input.ScheduleExpressionTimezone !== undefined ? { ScheduleExpressionTimezone: input.ScheduleExpressionTimezone } : {}),
      State: input.State ?? 'ENABLED',
      ...(input.Description !== undefined ? { Description: input.Description } : {}),
      ...(input.StartDate !== undefined ? { StartDate: input.StartDate } : {}),
      ...(input.EndDate !== undefined ? { EndDate: input.EndDate } : {}),
      ...(input.KmsKeyArn !== undefined ? { KmsKeyArn: input.KmsKeyArn } : {}),
      FlexibleTimeWindow: input.FlexibleTimeWindow,
      Target: input.Target,
      ActionAfterCompletion: input.ActionAfterCompletion ?? 'NONE',
      CreationDate: created?.CreationDate ?? at,
      LastModificationDate: at,
    };
    store.set(key(group, name), schedule);
    return schedule;
  };

  interface Route {
    readonly operation: string;
    readonly name?: string;
    readonly run: () => unknown;
  }

  /** The operation of a request and what it does; nothing runs before a failure injection has been checked. */
  function route(method: string, path: string, query: Record<string, string>, input: any): Route {
    const group = /^\/schedule-groups\/([^/]+)$/.exec(path);
    if (group && method === 'POST') {
      const name = decodeURIComponent(group[1]);
      return {
        operation: 'CreateScheduleGroup',
        name,
        run: () => {
          if (groups.has(name)) throw new SchedulerError('ConflictException', `Schedule group ${name} already exists.`);
          groups.add(name);
          return { ScheduleGroupArn: `arn:aws:scheduler:${region}:${ACCOUNT}:schedule-group/${name}` };
        },
      };
    }
    const one = /^\/schedules\/([^/]+)$/.exec(path);
    if (one) {
      const name = decodeURIComponent(one[1]);
      switch (method) {
        case 'POST':
          return {
            operation: 'CreateSchedule',
            name,
            run: () => {
              validateSchedule(name, input);
              if (store.has(key(groupOf(input.GroupName), name))) throw new SchedulerError('ConflictException', `Schedule ${name} already exists.`);
              return { ScheduleArn: write(name, input).Arn };
            },
          };
        case 'PUT':
          return {
            operation: 'UpdateSchedule',
            name,
            run: () => {
              validateSchedule(name, input);
              const before = existing(groupOf(input.GroupName), name);
              return { ScheduleArn: write(name, input, before).Arn };
            },
          };
        case 'GET':
          return { operation: 'GetSchedule', name, run: () => existing(groupOf(query.groupName), name) };
        case 'DELETE':
          return {
            operation: 'DeleteSchedule',
            name,
            run: () => {
              const g = groupOf(query.groupName);
              existing(g, name);
              store.delete(key(g, name));
              return {};
            },
          };
        default:
      }
    }
    if (path === '/schedules' && method === 'GET') return { operation: 'ListSchedules', run: () => list(query) };
    return { operation: 'Unknown', run: () => { throw invalid(`No local Scheduler operation for ${method} ${path}`); } };
  }

  function list(query: Record<string, string>) {
    const max = query.MaxResults === undefined ? 100 : Number(query.MaxResults);
    if (!Number.isInteger(max) || max < 1 || max > 100) throw invalid('MaxResults must be 1-100.');
    if (query.State !== undefined && !['ENABLED', 'DISABLED'].includes(query.State)) throw invalid("State must be 'ENABLED' or 'DISABLED'.");
    const after = query.NextToken ? decodeToken(query.NextToken) : undefined;
    const matching = sorted().filter((s) => (!query.ScheduleGroup || s.GroupName === query.ScheduleGroup)
      && (!query.NamePrefix || s.Name.startsWith(query.NamePrefix))
      && (!query.State || s.State === query.State)
      && (!after || key(s.GroupName, s.Name) > key(after[0], after[1])));
    const page = matching.slice(0, Math.min(max, pageSize));
    const last = page[page.length - 1];
    return {
      Schedules: page.map((s) => ({
        Arn: s.Arn,
        Name: s.Name,
        GroupName: s.GroupName,
        State: s.State,
        CreationDate: s.CreationDate,
        LastModificationDate: s.LastModificationDate,
        Target: { Arn: s.Target.Arn },
      })),
      ...(matching.length > page.length ? { NextToken: encodeToken(last.GroupName, last.Name) } : {}),
    };
  }

  const server: Server = createServer(async (req, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const call: CapturedSchedulerCall = { operation: 'Unknown', method, path: url.pathname, query: Object.fromEntries(url.searchParams), input: undefined };
    calls.push(call);
    const reply = (status: number, body: unknown, errorType?: string) => {
      call.status = status;
      if (errorType) call.errorType = errorType;
      res.writeHead(status, { 'content-type': 'application/json', ...(errorType ? { 'x-amzn-errortype': errorType } : {}) });
      res.end(JSON.stringify(body));
    };
    try {
      const raw = await readBody(req);
      let input: any;
      try {
        input = raw ? JSON.parse(raw) : {};
      } catch {
        throw invalid('Could not parse request body into json');
      }
      const { operation, name, run } = route(method, url.pathname, call.query, input);
      Object.assign(call, { operation, input, ...(name !== undefined ? { name } : {}) });
      const failure = failures.find((f) => f.left > 0 && f.match(call));
      if (failure) {
        failure.left--;
        throw new SchedulerError(failure.type, `Injected ${failure.type}`);
      }
      const output = run();
      reply(200, output);
    } catch (error) {
      const e = error instanceof SchedulerError ? error : new SchedulerError('InternalServerException', String((error as Error)?.stack ?? error));
      reply(STATUS[e.type], { Message: e.message }, e.type);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    firings,
    schedules: (groupName) => sorted().filter((s) => !groupName || s.GroupName === groupName),
    get: (groupName, name) => store.get(key(groupName, name)),
    failCalls: (match, times, type = 'InternalServerException') => { failures.push({ match, left: times, type }); },
    clearFailures: () => { failures.length = 0; },
    fire: async (groupName, name) => {
      const schedule = store.get(key(groupName, name));
      if (!schedule) throw new Error(`No schedule ${groupName}/${name}`);
      if (schedule.State !== 'ENABLED') throw new Error(`Schedule ${groupName}/${name} is ${schedule.State}: Scheduler would not run it`);
      if (!LAMBDA_ARN.test(schedule.Target.Arn)) throw new Error(`fire() runs Lambda targets only, not ${schedule.Target.Arn}`);
      if (!options.lambda) throw new Error('startLocalScheduler({ lambda }) is needed to fire a Lambda target');
      // Scheduler's templated Lambda target: an asynchronous Invoke whose payload is the Input.
      const input = schedule.Target.Input ?? '{}';
      const output = await options.lambda.send(new InvokeCommand({
        FunctionName: schedule.Target.Arn, InvocationType: 'Event', Payload: Buffer.from(input),
      }));
      const firing = { groupName, name, targetArn: schedule.Target.Arn, input, output };
      firings.push(firing);
      return firing;
    },
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
