/**
 * Validation of a function's configuration (registration and update bodies): plain checks with
 * one 400 per first offending field, limits passed in (construct props), nothing read from AWS.
 */
import {
  DEFAULT_CANARY_POLICY, DEFAULT_FUNCTION_SETTINGS, DEFAULT_HANDLERS, ENVIRONMENT_NAME_PATTERN, FUNCTION_NAME_PATTERN, HANDLER_SETTING_PATTERN,
  LAMBDA_LIMITS, MAX_SCHEDULE_PAYLOAD_BYTES, RESERVED_ENVIRONMENT_NAME, SCHEDULE_NAME_PATTERN, SUPPORTED_RUNTIMES,
  type DeploymentPolicy, type FunctionLimits, type FunctionRecord, type FunctionSchedule, type RateLimit, type SupportedRuntime,
} from '../../lib/lambda-runtime-service/contract';
import { ValidationError } from '../shared/errors';

export const CONFIG_FIELDS = [
  'runtime', 'handler', 'memoryMb', 'timeoutSeconds', 'environment', 'rateLimit', 'schedules', 'reservedConcurrency', 'deployment',
] as const;

/** The configuration fields of a function (what register sets and update may change): the record's own fields. */
export type FunctionConfig = Pick<FunctionRecord, (typeof CONFIG_FIELDS)[number]>;

/** Smallest rate: one call per 100 s (the GCRA interval is kept in whole microseconds). */
export const MIN_REQUESTS_PER_SECOND = 0.01;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
const utf8Bytes = (s: string) => Buffer.byteLength(s, 'utf8');

export function validateFunctionName(name: unknown, field = 'name'): string {
  if (typeof name !== 'string' || !FUNCTION_NAME_PATTERN.test(name)) {
    throw new ValidationError(`${field}: 1-40 lowercase letters, digits or '-', not starting or ending with '-'`);
  }
  return name;
}

function integerIn(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(`${field}: an integer from ${min} to ${max}`);
  }
  return value;
}

function validateRuntime(runtime: unknown): SupportedRuntime {
  if (typeof runtime !== 'string' || !(SUPPORTED_RUNTIMES as readonly string[]).includes(runtime)) {
    throw new ValidationError(`runtime: one of ${SUPPORTED_RUNTIMES.join(', ')}`);
  }
  return runtime as SupportedRuntime;
}

function validateHandler(handler: unknown, runtime: SupportedRuntime): string {
  if (runtime === 'provided.al2023') {
    if (handler !== 'bootstrap') throw new ValidationError("handler: a provided.al2023 function's handler is 'bootstrap'");
    return handler;
  }
  if (typeof handler !== 'string' || !HANDLER_SETTING_PATTERN.test(handler)) {
    throw new ValidationError('handler: <module path>.<function> (letters, digits, _ - / .)');
  }
  return handler;
}

export function validateEnvironment(environment: unknown): Record<string, string> {
  if (!isPlainObject(environment)) throw new ValidationError('environment: an object of string values');
  for (const [name, value] of Object.entries(environment)) {
    if (!ENVIRONMENT_NAME_PATTERN.test(name)) {
      throw new ValidationError(`environment: '${name.slice(0, 64)}' is not a valid name (a letter, then one or more letters, digits or _)`);
    }
    if (RESERVED_ENVIRONMENT_NAME.test(name)) throw new ValidationError(`environment: '${name}' is reserved by Lambda`);
    if (typeof value !== 'string') throw new ValidationError(`environment: '${name}' must be a string`);
  }
  const bytes = utf8Bytes(JSON.stringify(environment));
  if (bytes > LAMBDA_LIMITS.maxEnvironmentBytes) {
    throw new ValidationError(`environment: ${bytes} bytes, Lambda allows ${LAMBDA_LIMITS.maxEnvironmentBytes} for all variables together`);
  }
  return { ...environment } as Record<string, string>;
}

export function validateRateLimit(rateLimit: unknown, limits: FunctionLimits): RateLimit {
  if (!isPlainObject(rateLimit)) throw new ValidationError('rateLimit: { requestsPerSecond, burst }');
  const unknown = Object.keys(rateLimit).filter((k) => k !== 'requestsPerSecond' && k !== 'burst');
  if (unknown.length) throw new ValidationError(`rateLimit: unknown field(s) ${unknown.join(', ')}`);
  const rps = rateLimit.requestsPerSecond;
  if (typeof rps !== 'number' || !Number.isFinite(rps) || rps < MIN_REQUESTS_PER_SECOND || rps > limits.maxRequestsPerSecond) {
    throw new ValidationError(`rateLimit.requestsPerSecond: a number from ${MIN_REQUESTS_PER_SECOND} to ${limits.maxRequestsPerSecond}`);
  }
  const burst = integerIn(rateLimit.burst, 'rateLimit.burst', 1, limits.maxBurst);
  return { requestsPerSecond: rps, burst };
}

/* ---------------------------------------------------------------- schedules */

const RATE_EXPRESSION = /^rate\((\d{1,6}) (minute|minutes|hour|hours|day|days)\)$/;
const AT_EXPRESSION = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/;
const CRON_EXPRESSION = /^cron\(([^()]+)\)$/;

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface CronField {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  /** Extra single tokens allowed alone or with a number: `?`, `L`, `W`, `#`. */
  readonly extra: RegExp;
}

const CRON_FIELDS: readonly CronField[] = [
  { name: 'minutes', min: 0, max: 59, extra: /^$/ },
  { name: 'hours', min: 0, max: 23, extra: /^$/ },
  { name: 'day-of-month', min: 1, max: 31, extra: /^(\?|L|LW|\d{1,2}W)$/ },
  { name: 'month', min: 1, max: 12, names: MONTHS, extra: /^$/ },
  { name: 'day-of-week', min: 1, max: 7, names: DAYS, extra: /^(\?|L|[1-7]L|[A-Z]{3}L|[1-7]#[1-5]|[A-Z]{3}#[1-5])$/ },
  { name: 'year', min: 1970, max: 2199, extra: /^$/ },
];

function cronValue(token: string, field: CronField): boolean {
  if (/^\d+$/.test(token)) return Number(token) >= field.min && Number(token) <= field.max;
  return !!field.names?.includes(token);
}

function cronFieldValid(value: string, field: CronField): boolean {
  if (field.extra.test(value)) {
    if (value === '?' || value === 'L' || value === 'LW') return true;
    // `15W`, `5L`, `FRIL`, `6#3`, `MON#2` name a day: check it.
    return cronValue(value.replace(/(#[1-5]|L|W)$/, ''), field);
  }
  return value.split(',').every((item) => {
    const [range, step, ...rest] = item.split('/');
    if (rest.length || range === '') return false;
    if (step !== undefined && !(/^\d{1,4}$/.test(step) && Number(step) >= 1)) return false;
    if (range === '*') return true;
    const bounds = range.split('-');
    if (bounds.length > 2) return false;
    return bounds.every((b) => cronValue(b, field));
  });
}

/** A Scheduler expression's shape: `rate(n unit)`, `cron(6 fields)` or `at(yyyy-mm-ddThh:mm:ss)`. */
export function validateScheduleExpression(expression: unknown, field = 'expression'): string {
  if (typeof expression !== 'string' || expression.length > 256) throw new ValidationError(`${field}: rate(...), cron(...) or at(...)`);
  const rate = RATE_EXPRESSION.exec(expression);
  if (rate) {
    const n = Number(rate[1]);
    if (n < 1) throw new ValidationError(`${field}: a rate of at least 1`);
    const plural = rate[2].endsWith('s');
    if (n === 1 && plural) throw new ValidationError(`${field}: rate(1 ${rate[2].slice(0, -1)}) (singular for 1)`);
    if (n > 1 && !plural) throw new ValidationError(`${field}: rate(${n} ${rate[2]}s) (plural above 1)`);
    return expression;
  }
  const at = AT_EXPRESSION.exec(expression);
  if (at) {
    const [, y, mo, d, h, mi, s] = at.map(Number);
    const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
    const valid = date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d
      && date.getUTCHours() === h && date.getUTCMinutes() === mi && date.getUTCSeconds() === s;
    if (!valid) throw new ValidationError(`${field}: at(...) names no real date and time`);
    return expression;
  }
  const cron = CRON_EXPRESSION.exec(expression);
  if (cron) {
    const parts = cron[1].trim().split(/\s+/);
    if (parts.length !== 6) throw new ValidationError(`${field}: cron(minutes hours day-of-month month day-of-week year), 6 fields`);
    parts.forEach((part, i) => {
      if (!cronFieldValid(part.toUpperCase(), CRON_FIELDS[i])) throw new ValidationError(`${field}: cron ${CRON_FIELDS[i].name} '${part}' is invalid`);
    });
    if ((parts[2] === '?') === (parts[4] === '?')) {
      throw new ValidationError(`${field}: cron needs '?' in exactly one of day-of-month and day-of-week`);
    }
    return expression;
  }
  throw new ValidationError(`${field}: rate(...), cron(...) or at(...)`);
}

let zones: Set<string> | undefined;
/**
 * An IANA time zone: a canonical name from `Intl.supportedValuesOf('timeZone')`, or an IANA alias the
 * runtime's ICU resolves (`UTC`, `Asia/Kolkata`, which the canonical list spells `Asia/Calcutta`).
 * Offsets (`+05:30`) are not IANA names and are refused.
 */
export function isIanaTimeZone(zone: string): boolean {
  zones ??= new Set(Intl.supportedValuesOf('timeZone'));
  if (zones.has(zone)) return true;
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+){0,2}$/.test(zone)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export function validateSchedules(schedules: unknown, limits: FunctionLimits): FunctionSchedule[] {
  if (!Array.isArray(schedules)) throw new ValidationError('schedules: an array');
  if (schedules.length > limits.maxSchedules) throw new ValidationError(`schedules: at most ${limits.maxSchedules}`);
  const names = new Set<string>();
  return schedules.map((s: unknown, i) => {
    const at = `schedules.${i}`;
    if (!isPlainObject(s)) throw new ValidationError(`${at}: { name, expression, timezone, payload? }`);
    const unknown = Object.keys(s).filter((k) => !['name', 'expression', 'timezone', 'payload'].includes(k));
    if (unknown.length) throw new ValidationError(`${at}: unknown field(s) ${unknown.join(', ')}`);
    if (typeof s.name !== 'string' || !SCHEDULE_NAME_PATTERN.test(s.name)) {
      throw new ValidationError(`${at}.name: 1-23 lowercase letters, digits or '-', not starting or ending with '-'`);
    }
    if (names.has(s.name)) throw new ValidationError(`${at}.name: '${s.name}' is used twice`);
    names.add(s.name);
    const expression = validateScheduleExpression(s.expression, `${at}.expression`);
    const timezone = s.timezone ?? 'UTC';
    if (typeof timezone !== 'string' || !isIanaTimeZone(timezone)) throw new ValidationError(`${at}.timezone: an IANA time zone (e.g. Europe/Berlin)`);
    const schedule: FunctionSchedule = { name: s.name, expression, timezone };
    if (s.payload === undefined) return schedule;
    let json: string | undefined;
    try { json = JSON.stringify(s.payload); } catch { json = undefined; }
    if (json === undefined) throw new ValidationError(`${at}.payload: a JSON value`);
    if (utf8Bytes(json) > MAX_SCHEDULE_PAYLOAD_BYTES) throw new ValidationError(`${at}.payload: at most ${MAX_SCHEDULE_PAYLOAD_BYTES} bytes of JSON`);
    return { ...schedule, payload: JSON.parse(json) };
  });
}

/* ---------------------------------------------------------------- whole configuration */

const CANARY_FIELDS = ['strategy', 'steps', 'stepMinutes', 'maxErrorRatePercent', 'minInvocations'];

/** `{ strategy: 'all-at-once' }` or a canary: steps strictly ascending in 1–99 (at most 5), minutes 1–1440. */
export function validateDeployment(deployment: unknown): DeploymentPolicy {
  if (!isPlainObject(deployment)) throw new ValidationError("deployment: { strategy: 'all-at-once' } or { strategy: 'canary', steps, ... }");
  if (deployment.strategy === 'all-at-once') {
    if (Object.keys(deployment).length !== 1) throw new ValidationError("deployment: 'all-at-once' takes no other field");
    return { strategy: 'all-at-once' };
  }
  if (deployment.strategy !== 'canary') throw new ValidationError("deployment.strategy: 'all-at-once' or 'canary'");
  const unknown = Object.keys(deployment).filter((k) => !CANARY_FIELDS.includes(k));
  if (unknown.length) throw new ValidationError(`deployment: unknown field(s) ${unknown.map((k) => `'${k.slice(0, 64)}'`).join(', ')}`);
  const steps = deployment.steps ?? DEFAULT_CANARY_POLICY.steps;
  if (!Array.isArray(steps) || steps.length < 1 || steps.length > 5) throw new ValidationError('deployment.steps: 1 to 5 percentages');
  steps.forEach((step, i) => {
    integerIn(step, `deployment.steps[${i}]`, 1, 99);
    if (i > 0 && step <= steps[i - 1]) throw new ValidationError('deployment.steps: strictly ascending');
  });
  const maxErrorRatePercent = deployment.maxErrorRatePercent ?? DEFAULT_CANARY_POLICY.maxErrorRatePercent;
  if (typeof maxErrorRatePercent !== 'number' || !Number.isFinite(maxErrorRatePercent) || maxErrorRatePercent < 0 || maxErrorRatePercent > 100) {
    throw new ValidationError('deployment.maxErrorRatePercent: a number from 0 to 100');
  }
  return {
    strategy: 'canary',
    steps: [...steps] as number[],
    stepMinutes: integerIn(deployment.stepMinutes ?? DEFAULT_CANARY_POLICY.stepMinutes, 'deployment.stepMinutes', 1, 1440),
    maxErrorRatePercent,
    minInvocations: integerIn(deployment.minInvocations ?? DEFAULT_CANARY_POLICY.minInvocations, 'deployment.minInvocations', 1, 1_000_000),
  };
}

/**
 * A full configuration from a registration body's fields (`name` excluded), with the defaults for
 * what it leaves out. Unknown fields are refused (a typo must not be silently ignored).
 */
export function validateConfig(input: Record<string, unknown>, limits: FunctionLimits): FunctionConfig {
  const unknown = Object.keys(input).filter((k) => !(CONFIG_FIELDS as readonly string[]).includes(k));
  if (unknown.length) throw new ValidationError(`unknown field(s) ${unknown.map((k) => `'${k.slice(0, 64)}'`).join(', ')}`);
  const runtime = validateRuntime(input.runtime);
  const maxMemory = Math.min(limits.maxMemoryMb, LAMBDA_LIMITS.maxMemoryMb);
  const maxTimeout = Math.min(limits.maxTimeoutSeconds, LAMBDA_LIMITS.maxTimeoutSeconds);
  return {
    runtime,
    handler: validateHandler(input.handler ?? DEFAULT_HANDLERS[runtime], runtime),
    memoryMb: integerIn(input.memoryMb ?? DEFAULT_FUNCTION_SETTINGS.memoryMb, 'memoryMb', LAMBDA_LIMITS.minMemoryMb, maxMemory),
    timeoutSeconds: integerIn(input.timeoutSeconds ?? Math.min(DEFAULT_FUNCTION_SETTINGS.timeoutSeconds, maxTimeout), 'timeoutSeconds', 1, maxTimeout),
    environment: validateEnvironment(input.environment ?? {}),
    // The default rate limit, within the limits a deployment chose (a construct may lower them below it).
    rateLimit: validateRateLimit(input.rateLimit ?? {
      requestsPerSecond: Math.min(DEFAULT_FUNCTION_SETTINGS.rateLimit.requestsPerSecond, limits.maxRequestsPerSecond),
      burst: Math.min(DEFAULT_FUNCTION_SETTINGS.rateLimit.burst, limits.maxBurst),
    }, limits),
    schedules: validateSchedules(input.schedules ?? [], limits),
    reservedConcurrency: integerIn(
      input.reservedConcurrency ?? Math.min(DEFAULT_FUNCTION_SETTINGS.reservedConcurrency, limits.maxReservedConcurrency),
      'reservedConcurrency', 1, limits.maxReservedConcurrency,
    ),
    deployment: validateDeployment(input.deployment ?? DEFAULT_FUNCTION_SETTINGS.deployment),
  };
}

export { isPlainObject };
