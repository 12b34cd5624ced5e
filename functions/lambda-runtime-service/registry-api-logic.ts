/**
 * The registry API's logic: HTTP concerns (path and query parameters, `If-Match`, ETags, signed
 * page tokens, content type) around registry-store, which owns every rule of the data itself.
 * Plain functions of (input, services): the handler passes DynamoDB and the page token key in.
 */
import * as z from 'zod/mini';
import { validateFunctionName } from './function-validation';
import {
  deleteFunction, FunctionNotFoundError, getFunction, listFunctions, registerFunction, updateFunction,
  type ListOrder, type RegisterInput, type RegistryServices,
} from './registry-store';
import type { FunctionRecord } from '../../lib/lambda-runtime-service/contract';
import { BadRequestError, HttpError } from '../shared/errors';
import { openPageToken, signPageToken } from '../shared/page-token';
import { validate } from '../shared/validation';

/** The HMAC label of the function listing's page tokens: distinct from every other API's. */
export const FUNCTIONS_PAGE_TOKEN_LABEL = 'cdk-event-services/lambda-runtime-service/functions/nextToken/v1\n';

export interface RegistryApiServices extends RegistryServices {
  /** The page token HMAC key (the secret's value, cached). */
  readonly pageTokenKey: () => Promise<Uint8Array>;
}

export class UnsupportedMediaTypeError extends HttpError {
  override readonly name: string = 'UnsupportedMediaTypeError';
  constructor() { super(415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json'); }
}

export class PreconditionRequiredError extends HttpError {
  override readonly name: string = 'PreconditionRequiredError';
  constructor() {
    super(428, 'PRECONDITION_REQUIRED', 'If-Match is required: send the ETag of the version you read (GET /v1.0/functions/{name}), e.g. If-Match: "3"');
  }
}

/** The `name` path parameter, refused (400) before any read when it cannot be a registered name. */
export const parseFunctionName = (raw: string | undefined): string => validateFunctionName(raw, "Invalid path parameter 'name'");

export const etagOf = (record: FunctionRecord): string => `"${record.version}"`;
export const functionLink = (name: string): string => `/v1.0/functions/${name}`;

/** A JSON body is asked for: a Content-Type other than JSON is 415 (none at all is read as JSON). */
export function requireJsonContentType(contentType: string | undefined): void {
  if (contentType === undefined) return;
  const mediaType = contentType.split(';')[0].trim().toLowerCase();
  if (mediaType !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(mediaType)) throw new UnsupportedMediaTypeError();
}

/**
 * `If-Match: "{version}"` → the version. One strong ETag of ours only: `*`, a weak tag or a list
 * would weaken the optimistic concurrency the header exists for, so they are refused (400).
 */
export function parseIfMatch(header: string | undefined, required: boolean): number | undefined {
  if (header === undefined || header.trim() === '') {
    if (required) throw new PreconditionRequiredError();
    return undefined;
  }
  const match = /^\s*"([1-9][0-9]{0,14})"\s*$/.exec(header);
  if (!match) throw new BadRequestError('If-Match: one ETag as returned by this API, e.g. "3"');
  return Number(match[1]);
}

export const register = (body: unknown, services: RegistryApiServices): Promise<FunctionRecord> =>
  registerFunction(body as RegisterInput, services);

export async function readFunction(name: string, services: RegistryApiServices): Promise<FunctionRecord> {
  const record = await getFunction(name, services);
  if (!record) throw new FunctionNotFoundError(name);
  return record;
}

export const patchFunction = (name: string, body: unknown, expectedVersion: number, services: RegistryApiServices) =>
  updateFunction(name, body as Record<string, unknown>, expectedVersion, services);

export const removeFunction = (name: string, expectedVersion: number | undefined, services: RegistryApiServices) =>
  deleteFunction(name, services, expectedVersion === undefined ? {} : { expectedVersion });

const listQuerySchema = z.strictObject({
  order: z.optional(z.enum(['name', 'newest'])),
  limit: z.optional(z.string().check(z.regex(/^\d{1,3}$/, { message: 'must be an integer from 1 to 100' }))),
  nextToken: z.optional(z.string().check(z.maxLength(4096))),
});

/**
 * Live functions, by name or newest first. The store's token (the index's last key) travels
 * inside an HMAC-signed token bound to the order, so an edited token, or one from the other
 * order or another API, is refused (400) before it reaches DynamoDB.
 */
export async function listPage(
  query: Record<string, string | undefined> | null, services: RegistryApiServices,
): Promise<{ items: FunctionRecord[]; nextToken?: string }> {
  const q = validate(listQuerySchema, query ?? {}, 'query parameter');
  const order: ListOrder = q.order ?? 'name';
  const limit = q.limit === undefined ? 20 : Number(q.limit);
  if (limit < 1 || limit > 100) throw new BadRequestError("Invalid query parameter 'limit': must be an integer from 1 to 100");
  const inner = q.nextToken === undefined ? undefined : openToken(await services.pageTokenKey(), q.nextToken, order);
  const page = await listFunctions({ order, limit, nextToken: inner }, services);
  if (!page.nextToken) return { items: page.functions };
  const nextToken = signPageToken(await services.pageTokenKey(), FUNCTIONS_PAGE_TOKEN_LABEL, { t: page.nextToken, o: order });
  return { items: page.functions, nextToken };
}

function openToken(key: Uint8Array, token: string, order: ListOrder): string {
  const value = openPageToken(key, FUNCTIONS_PAGE_TOKEN_LABEL, token) as { t?: unknown; o?: unknown } | undefined;
  if (!value || typeof value !== 'object' || value.o !== order || typeof value.t !== 'string') {
    throw new BadRequestError("Invalid query parameter 'nextToken': not a token this API issued for this listing and order");
  }
  return value.t;
}
