/**
 * The invocation read API's logic: one audit record by id, and a function's invocations in a time
 * range (newest first) with signed page tokens. invocation-audit owns the table; this owns the HTTP
 * input (ids, names, ISO ranges no longer than the audit keeps) and the tokens.
 */
import * as z from 'zod/mini';
import { validateFunctionName } from './function-validation';
import { getInvocation, listInvocations, type AuditServices, type InvocationRecord } from './invocation-audit';
import {
  DEFAULT_RUNTIME_SETTINGS, INVOCATION_ID_PATTERN, LambdaRuntimeErrors, type RuntimeSettings,
} from '../../lib/lambda-runtime-service/contract';
import { ConfigurationError } from '../shared/config';
import { BadRequestError, HttpError } from '../shared/errors';
import { openPageToken, signPageToken } from '../shared/page-token';
import { validate } from '../shared/validation';

/** The HMAC label of the invocation listing's page tokens: distinct from every other API's. */
export const INVOCATIONS_PAGE_TOKEN_LABEL = 'cdk-event-services/lambda-runtime-service/invocations/nextToken/v1\n';

export interface ReadInvocationsServices extends AuditServices {
  /** The page token HMAC key (the secret's value, cached). */
  readonly pageTokenKey: () => Promise<Uint8Array>;
  readonly now: () => Date;
}

export class InvocationNotFoundError extends HttpError {
  override readonly name: string = 'InvocationNotFoundError';
  constructor(id: string) { super(404, LambdaRuntimeErrors.INVOCATION_NOT_FOUND, `No invocation ${id} (or it is older than the audit keeps)`); }
}

/** RUNTIME_SETTINGS (JSON of every RuntimeSettings field, numbers >= 0), parsed at init: a bad value fails the cold start, naming it. */
export function readRuntimeSettings(value: string, variable = 'RUNTIME_SETTINGS'): RuntimeSettings {
  let parsed: Record<string, unknown> | undefined;
  try { parsed = JSON.parse(value); } catch { parsed = undefined; }
  const fields = Object.keys(DEFAULT_RUNTIME_SETTINGS) as Array<keyof RuntimeSettings>;
  const isSetting = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !fields.every((f) => isSetting(parsed![f]))) {
    throw new ConfigurationError(`Environment variable ${variable} must be JSON with numbers >= 0: ${fields.join(', ')}`);
  }
  return Object.fromEntries(fields.map((f) => [f, parsed![f]])) as unknown as RuntimeSettings;
}

/** The `id` path parameter, refused (400) before any read when the platform cannot have made it. */
export function parseInvocationId(raw: string | undefined): string {
  if (raw === undefined || !INVOCATION_ID_PATTERN.test(raw)) throw new BadRequestError("Invalid path parameter 'id': not an invocation id");
  return raw;
}

export async function readInvocation(id: string, services: ReadInvocationsServices): Promise<InvocationRecord> {
  const record = await getInvocation(id, services);
  if (!record) throw new InvocationNotFoundError(id);
  return record;
}

/**
 * An ISO 8601 date-time with an explicit zone (`Z` or `±hh:mm`), seconds and fractions optional,
 * as the audit's UTC millisecond form. A date alone or a zone-less time is ambiguous: refused.
 */
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/;

/** Each field in its range: Date.parse rolls `02-30` over into March instead of refusing it. */
function realDateTime(value: string): boolean {
  const m = ISO_DATE_TIME.exec(value);
  if (!m) return false;
  const [year, month, day, hour, minute, second, offsetH, offsetM] = m.slice(1).map((v) => Number(v ?? 0));
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth && hour <= 23 && minute <= 59 && second <= 59 && offsetH <= 23 && offsetM <= 59;
}

function isoTime(value: string, field: string): string {
  const ms = realDateTime(value) ? Date.parse(value) : NaN;
  const normalised = Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
  // toISOString spells years outside 0000–9999 with a sign: the audit's sort keys never do.
  if (normalised === undefined || !/^\d{4}-/.test(normalised)) {
    throw new BadRequestError(`Invalid query parameter '${field}': an ISO 8601 date-time with a zone, e.g. 2026-11-29T08:00:00Z`);
  }
  return normalised;
}

const listQuerySchema = z.strictObject({
  from: z.optional(z.string().check(z.maxLength(64))),
  to: z.optional(z.string().check(z.maxLength(64))),
  limit: z.optional(z.string().check(z.regex(/^\d{1,3}$/, { message: 'must be an integer from 1 to 100' }))),
  nextToken: z.optional(z.string().check(z.maxLength(4096))),
});

/**
 * A function's invocations started in [from, to), newest first. `to` defaults to now, `from` to
 * `to` minus the audit retention (older records are gone anyway); a range longer than the retention
 * is a 400: it cannot hold more than the retention does, and asking for it is a caller's mistake.
 * The audit's token travels inside an HMAC-signed token bound to the function and the range as
 * the caller gave it, so a token from another function or range is refused before any read.
 */
export async function listFunctionInvocations(
  name: string, query: Record<string, string | undefined> | null, services: ReadInvocationsServices,
): Promise<{ items: InvocationRecord[]; nextToken?: string }> {
  validateFunctionName(name, "Invalid path parameter 'name'");
  const q = validate(listQuerySchema, query ?? {}, 'query parameter');
  const limit = q.limit === undefined ? 20 : Number(q.limit);
  if (limit < 1 || limit > 100) throw new BadRequestError("Invalid query parameter 'limit': must be an integer from 1 to 100");
  const retentionMs = { ...DEFAULT_RUNTIME_SETTINGS, ...services.settings }.auditRetentionSeconds * 1000;
  const to = q.to === undefined ? services.now().toISOString() : isoTime(q.to, 'to');
  const from = q.from === undefined ? new Date(Date.parse(to) - retentionMs).toISOString() : isoTime(q.from, 'from');
  if (from >= to) throw new BadRequestError("Invalid query parameters: 'from' must be before 'to'");
  if (Date.parse(to) - Date.parse(from) > retentionMs) {
    throw new BadRequestError(`Invalid query parameters: the range is longer than the audit keeps invocations (${retentionMs / 86_400_000} days)`);
  }
  const binding = { f: name, from: q.from ?? null, to: q.to ?? null };
  const inner = q.nextToken === undefined ? undefined : openToken(await services.pageTokenKey(), q.nextToken, binding);
  const page = await listInvocations(name, { from, to, limit, nextToken: inner }, services);
  if (!page.nextToken) return { items: page.invocations };
  const nextToken = signPageToken(await services.pageTokenKey(), INVOCATIONS_PAGE_TOKEN_LABEL, { t: page.nextToken, ...binding });
  return { items: page.invocations, nextToken };
}

function openToken(key: Uint8Array, token: string, binding: { f: string; from: string | null; to: string | null }): string {
  const value = openPageToken(key, INVOCATIONS_PAGE_TOKEN_LABEL, token) as Record<string, unknown> | undefined;
  const ok = !!value && typeof value === 'object' && typeof value.t === 'string'
    && value.f === binding.f && value.from === binding.from && value.to === binding.to;
  if (!ok) throw new BadRequestError("Invalid query parameter 'nextToken': not a token this API issued for this function and range");
  return value!.t as string;
}
