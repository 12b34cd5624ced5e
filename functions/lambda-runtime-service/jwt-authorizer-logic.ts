import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { ConfigurationError } from '../shared/config';

/**
 * Asymmetric algorithms only. An HS* entry would let a token signed with the issuer's
 * *public* key as an HMAC secret pass (algorithm confusion); `none` is no signature at all.
 */
export const ALLOWED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384'];
/** Longest token read: a real access token is 1–2 KB; more is refused before any parsing. */
export const MAX_TOKEN_LENGTH = 8 * 1024;
export const CLOCK_TOLERANCE_SECONDS = 60;
/** Time allowed for each discovery or JWKS request: the authorizer's own timeout is short. */
export const KEY_FETCH_TIMEOUT_MS = 5000;

/** A token the authorizer refuses (API Gateway's 401). `reason` is logged, never the token. */
export class TokenRejected extends Error {
  readonly name = 'TokenRejected';
}

/** The issuer's keys could not be fetched: an outage, not a bad token (API Gateway answers 500). */
export class KeySourceError extends Error {
  readonly name = 'KeySourceError';
}

/**
 * Plain http is allowed only on the loopback host: the tests serve their JWKS from a local
 * server without TLS, and loopback traffic never crosses a network an attacker could sit on.
 * Anywhere else, keys fetched over http could be swapped in transit, which forges any token.
 */
function isAllowedKeyUrl(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && (url.hostname === 'localhost' || url.hostname === '127.0.0.1'));
}

/** JWT_ISSUER: an https URL (http on localhost only), compared to `iss` exactly as given. */
export function parseIssuer(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigurationError(`Environment variable ${name} must be the issuer URL, got '${value}'`);
  }
  if (!isAllowedKeyUrl(url) || url.search || url.hash) {
    throw new ConfigurationError(`Environment variable ${name} must be an https URL without query or fragment (http only on localhost), got '${value}'`);
  }
  return value;
}

/** JWT_AUDIENCE: a JSON array of one or more non-empty strings. */
export function parseAudiences(name: string, value: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((a) => typeof a === 'string' && a.length > 0)) {
    throw new ConfigurationError(`Environment variable ${name} must be a JSON array of one or more audience strings, got '${value}'`);
  }
  return parsed as string[];
}

async function fetchJson(url: URL): Promise<{ status: number; body?: unknown }> {
  // No redirects: the issuer's configuration is read from the issuer itself, as jose reads the JWKS.
  const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(KEY_FETCH_TIMEOUT_MS), headers: { accept: 'application/json' } });
  if (response.status !== 200) return { status: response.status };
  return { status: 200, body: await response.json() };
}

/**
 * Where the issuer publishes its keys: `jwks_uri` of its OpenID configuration, else (no
 * `jwks_uri`, or no discovery document at all) the conventional `/.well-known/jwks.json`.
 */
export async function discoverJwksUri(issuer: string): Promise<URL> {
  // OIDC Discovery §4: a trailing slash of the issuer is removed before appending the path.
  const base = issuer.replace(/\/+$/, '');
  const fallback = new URL(`${base}/.well-known/jwks.json`);
  let found: { status: number; body?: unknown };
  try {
    found = await fetchJson(new URL(`${base}/.well-known/openid-configuration`));
  } catch (cause) {
    throw new KeySourceError(`OpenID configuration of ${issuer} unreadable: ${(cause as Error).message}`);
  }
  if (found.status === 404) return fallback;
  if (found.status !== 200 || typeof found.body !== 'object' || found.body === null) {
    throw new KeySourceError(`OpenID configuration of ${issuer} answered ${found.status}`);
  }
  const doc = found.body as { issuer?: unknown; jwks_uri?: unknown };
  // OIDC Discovery §4.3: the document must name the very issuer it was read from.
  if (doc.issuer !== undefined && doc.issuer !== issuer) {
    throw new KeySourceError(`OpenID configuration of ${issuer} names another issuer: ${String(doc.issuer)}`);
  }
  if (doc.jwks_uri === undefined) return fallback;
  const jwksUri = typeof doc.jwks_uri === 'string' && URL.canParse(doc.jwks_uri) ? new URL(doc.jwks_uri) : undefined;
  if (!jwksUri || !isAllowedKeyUrl(jwksUri)) throw new KeySourceError(`OpenID configuration of ${issuer} has an unusable jwks_uri`);
  return jwksUri;
}

/**
 * The issuer's keys, per container: discovery runs once (again only after it failed); jose's
 * remote key set caches the JWKS for 10 minutes and re-fetches on an unknown `kid`, at most
 * once per 30 s, which is how a rotated-in key is picked up.
 */
export function issuerKeys(issuer: string): JWTVerifyGetKey {
  let keySet: Promise<JWTVerifyGetKey> | undefined;
  return async (header, token) => {
    keySet ??= discoverJwksUri(issuer).then(
      (uri) => createRemoteJWKSet(uri, { timeoutDuration: KEY_FETCH_TIMEOUT_MS }),
      (err) => {
        keySet = undefined;
        throw err;
      },
    );
    return (await keySet)(header, token);
  };
}

/** jose's codes that mean "this token is not acceptable"; its other errors are key fetch failures. */
const TOKEN_ERROR_CODES = new Set([
  errors.JWTClaimValidationFailed.code, errors.JWTExpired.code, errors.JWTInvalid.code, errors.JWSInvalid.code,
  errors.JWSSignatureVerificationFailed.code, errors.JOSEAlgNotAllowed.code, errors.JOSENotSupported.code,
  errors.JWKSNoMatchingKey.code, errors.JWKSMultipleMatchingKeys.code,
]);

export interface AuthorizerSettings {
  readonly issuer: string;
  readonly audiences: readonly string[];
  readonly keys: JWTVerifyGetKey;
}

/** `Bearer <jwt>` (scheme case-insensitive, RFC 7235), length-checked before anything parses it. */
export function bearerToken(header: unknown): string {
  if (typeof header !== 'string' || header.length === 0) throw new TokenRejected('no authorization token');
  if (header.length > MAX_TOKEN_LENGTH + 'Bearer '.length) throw new TokenRejected(`token longer than ${MAX_TOKEN_LENGTH} characters`);
  const match = /^Bearer +(\S+)$/i.exec(header);
  if (!match) throw new TokenRejected('authorization token is not "Bearer <jwt>"');
  if (match[1].length > MAX_TOKEN_LENGTH) throw new TokenRejected(`token longer than ${MAX_TOKEN_LENGTH} characters`);
  return match[1];
}

/** The verified claims of a token: signature, issuer, audience, algorithm, `exp` (required), `nbf`. */
export async function verifyToken(token: string, settings: AuthorizerSettings): Promise<JWTPayload & { sub: string }> {
  try {
    const { payload } = await jwtVerify(token, settings.keys, {
      issuer: settings.issuer,
      audience: [...settings.audiences],
      algorithms: ALLOWED_ALGORITHMS,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      // `sub` becomes the principal: a token without one identifies nobody.
      requiredClaims: ['exp', 'sub'],
    });
    return payload as JWTPayload & { sub: string };
  } catch (err) {
    if (err instanceof errors.JOSEError && TOKEN_ERROR_CODES.has(err.code)) throw new TokenRejected(`${err.code}: ${err.message}`);
    if (err instanceof KeySourceError) throw err;
    throw new KeySourceError(`keys of ${settings.issuer} unavailable: ${(err as Error).message}`);
  }
}

/**
 * `arn:…:execute-api:region:account:apiId/stage/*\/*` from a method ARN
 * (`…:apiId/stage/VERB/path`): the policy covers every route of the stage, so API
 * Gateway's cached answer for this token serves the caller's next route too.
 */
export function stageWildcardArn(methodArn: string): string {
  const parts = methodArn.split(':');
  const [apiId, stage] = (parts[5] ?? '').split('/');
  if (parts.length !== 6 || parts[0] !== 'arn' || parts[2] !== 'execute-api' || !apiId || !stage) {
    throw new TokenRejected(`unexpected methodArn ${methodArn}`);
  }
  return `${parts.slice(0, 5).join(':')}:${apiId}/${stage}/*/*`;
}

/** Space-separated scopes: `scope` (RFC 9068, a string) or `scp` (some issuers: an array). */
function scopeOf(claims: JWTPayload): string {
  const value = claims.scope ?? claims.scp;
  if (typeof value === 'string') return value;
  return Array.isArray(value) ? value.filter((s) => typeof s === 'string').join(' ') : '';
}

export interface AuthorizerPolicy {
  readonly principalId: string;
  readonly policyDocument: {
    readonly Version: '2012-10-17';
    readonly Statement: readonly { readonly Action: string; readonly Effect: 'Allow'; readonly Resource: string }[];
  };
  /** Strings only: API Gateway refuses objects and arrays in an authorizer's context. */
  readonly context: Readonly<Record<string, string>>;
}

/** A TOKEN authorizer's answer: Allow on the stage for the token's subject, or TokenRejected. */
export async function authorize(
  event: { readonly authorizationToken?: unknown; readonly methodArn: string },
  settings: AuthorizerSettings,
): Promise<AuthorizerPolicy> {
  const resource = stageWildcardArn(event.methodArn);
  const claims = await verifyToken(bearerToken(event.authorizationToken), settings);
  const clientId = claims.client_id ?? claims.azp;
  return {
    principalId: claims.sub,
    policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: resource }] },
    context: { sub: claims.sub, scope: scopeOf(claims), ...(typeof clientId === 'string' ? { clientId } : {}) },
  };
}
