import * as z from 'zod/mini';
import { ACTIVE_PARTITION, centsKey, namePartition } from './product-item';
import { MAX_PRICE, productNameSchema } from './product-schema';
import { BadRequestError } from '../shared/errors';
import { openPageToken, signPageToken } from '../shared/page-token';
import { validate } from '../shared/validation';

const MAX_PRICE_CENTS = MAX_PRICE * 100;

/** The HMAC label of ProductApi's page tokens; unchanged since v1, so tokens already handed out stay valid. */
export const PRODUCT_PAGE_TOKEN_LABEL = 'cdk-event-services/product-api/nextToken/v1\n';

export type ListQuery =
  | { kind: 'price'; limit: number; minCents: number; maxCents: number; nextToken?: string }
  | { kind: 'name'; limit: number; name: string; nextToken?: string };

const decimal = /^\d{1,7}(\.\d{1,2})?$/;
const querySchema = z.object({
  limit: z.optional(z.string().check(z.regex(/^\d{1,3}$/, { message: 'must be an integer from 1 to 100' }))),
  minPrice: z.optional(z.string().check(z.regex(decimal, { message: 'must be a price with at most 2 decimals' }))),
  maxPrice: z.optional(z.string().check(z.regex(decimal, { message: 'must be a price with at most 2 decimals' }))),
  name: z.optional(productNameSchema),
  nextToken: z.optional(z.string().check(z.maxLength(4096))),
});

const cents = (s: string) => Math.round(Number(s) * 100);

/** Reads ?limit, ?minPrice, ?maxPrice, ?name, ?nextToken into one of two index queries. */
export function parseListQuery(params: Record<string, string | undefined> | null): ListQuery {
  const q = validate(querySchema, params ?? {}, 'query parameter');
  const limit = q.limit === undefined ? 20 : Number(q.limit);
  if (limit < 1 || limit > 100) throw new BadRequestError("Invalid query parameter 'limit': must be an integer from 1 to 100");
  if (q.name !== undefined) {
    if (q.minPrice !== undefined || q.maxPrice !== undefined) throw new BadRequestError("Query parameter 'name' cannot be combined with a price range");
    return { kind: 'name', limit, name: q.name, nextToken: q.nextToken };
  }
  const minCents = q.minPrice === undefined ? 0 : cents(q.minPrice);
  const maxCents = q.maxPrice === undefined ? MAX_PRICE_CENTS : cents(q.maxPrice);
  if (maxCents > MAX_PRICE_CENTS) throw new BadRequestError("Invalid query parameter 'maxPrice': must be at most 1000000");
  if (minCents > MAX_PRICE_CENTS) throw new BadRequestError("Invalid query parameter 'minPrice': must be at most 1000000");
  if (minCents > maxCents) throw new BadRequestError("Query parameter 'minPrice' must not exceed 'maxPrice'");
  return { kind: 'price', limit, minCents, maxCents, nextToken: q.nextToken };
}

/** Inclusive sort-key bounds for a price range ('~' sorts after every id character). */
export function priceBounds(q: { minCents: number; maxCents: number }): [string, string] {
  return [`${centsKey(q.minCents)}#`, `${centsKey(q.maxCents)}#~`];
}

/** Binds a token to its query, so a token from one query cannot page through another. */
export function fingerprint(q: ListQuery): string {
  return q.kind === 'name' ? `name:${namePartition(q.name)}` : `price:${q.minCents}:${q.maxCents}`;
}

/** A signed token (see shared/page-token.ts) holding the page's last key and this query's fingerprint. */
export function encodeNextToken(q: ListQuery, lastKey: Record<string, unknown>, key: Uint8Array): string {
  return signPageToken(key, PRODUCT_PAGE_TOKEN_LABEL, { k: lastKey, f: fingerprint(q) });
}

const PK_PATTERN = /^PRODUCT#[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Opens and checks a token: its mac must verify (so it is a token this API issued, unedited),
 * and it must carry this query's fingerprint and exactly the attributes of this index's key,
 * inside this query's partition and range. The structural checks stay behind the mac as
 * a second line: a genuine token replayed against another query is refused by them.
 */
export function decodeNextToken(q: ListQuery, token: string, macKey: Uint8Array): Record<string, string> {
  const invalid = () => new BadRequestError("Invalid query parameter 'nextToken': not a token this API issued for this query");
  const decoded: any = openPageToken(macKey, PRODUCT_PAGE_TOKEN_LABEL, token);
  if (typeof decoded !== 'object' || decoded === null || decoded.f !== fingerprint(q)) throw invalid();
  const key = decoded.k;
  if (typeof key !== 'object' || key === null || Array.isArray(key)) throw invalid();
  const expected = q.kind === 'price' ? ['GSI1_PK', 'GSI1_SK', 'PK', 'SK'] : ['GSI2_PK', 'PK', 'SK'];
  const names = Object.keys(key).sort();
  if (names.length !== expected.length || names.some((n, i) => n !== expected[i])) throw invalid();
  if (names.some((n) => typeof key[n] !== 'string')) throw invalid();
  if (!PK_PATTERN.test(key.PK) || key.SK !== 'METADATA') throw invalid();
  const productId = key.PK.slice('PRODUCT#'.length);
  if (q.kind === 'price') {
    const [low, high] = priceBounds(q);
    if (key.GSI1_PK !== ACTIVE_PARTITION) throw invalid();
    if (!/^\d{12}#/.test(key.GSI1_SK) || key.GSI1_SK < low || key.GSI1_SK > high) throw invalid();
    if (key.GSI1_SK.slice(13) !== productId) throw invalid();
  } else if (key.GSI2_PK !== namePartition(q.name)) {
    throw invalid();
  }
  return key;
}
