import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Context } from 'aws-lambda';
import type * as Jose from 'jose';
import { LambdaRuntimeEnv as E } from '../../lib/lambda-runtime-service/contract';
import { bundleEntry, loadHandler, shippedBundle } from '../harness/bundle-handler';
import { configureHandlerEnv, fakeContext } from '../harness/local-aws';

interface TokenEvent { type: 'TOKEN'; authorizationToken: string; methodArn: string }
interface Policy {
  principalId: string;
  policyDocument: { Version: string; Statement: { Action: string; Effect: string; Resource: string }[] };
  context: Record<string, string>;
}
type AuthorizerFn = (event: TokenEvent, context: Context) => Promise<Policy>;

const ENTRY = 'functions/lambda-runtime-service/jwt-authorizer.ts';
const AUDIENCE = 'https://functions.example.com';
const METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123def4/prod/POST/v1.0/functions/hello/invoke';
const STAGE_WILDCARD = 'arn:aws:execute-api:eu-west-1:123456789012:abc123def4/prod/*/*';
const b64url = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const nowSeconds = () => Math.floor(Date.now() / 1000);

// jose is ESM-only, which jest's CommonJS runtime cannot load from source: bundle it to CJS
// once, as the shipped handler bundles are, and use it to make keys and sign tokens.
let jose: typeof Jose;

/** An issuer on a local http server: OpenID configuration and JWKS, each request counted. */
class LocalIssuer {
  readonly hits: Record<string, number> = {};
  jwks: Jose.JWK[] = [];
  /** Answer the next request for a path ending so with this status (once). */
  failNext: { path: string; status: number } | undefined;
  issuer = '';
  private server!: Server;
  /** The discovery document's body; `undefined` answers 404. */
  discovery: ((issuer: string) => Record<string, unknown>) | undefined = (issuer) => ({ issuer, jwks_uri: `${issuer}/keys` });

  async start(path: string): Promise<this> {
    this.server = createServer((req, res) => {
      const url = req.url ?? '';
      this.hits[url] = (this.hits[url] ?? 0) + 1;
      const send = (status: number, body?: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(body === undefined ? '' : JSON.stringify(body));
      };
      if (this.failNext && url.endsWith(this.failNext.path)) {
        const { status } = this.failNext;
        this.failNext = undefined;
        return send(status, { error: 'unavailable' });
      }
      if (url === `${path}/.well-known/openid-configuration`) return this.discovery ? send(200, this.discovery(this.issuer)) : send(404);
      if (url === `${path}/keys` || url === `${path}/.well-known/jwks.json`) return send(200, { keys: this.jwks });
      return send(404);
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.issuer = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
    return this;
  }

  hitsOn(suffix: string): number {
    return Object.entries(this.hits).filter(([url]) => url.endsWith(suffix)).reduce((sum, [, n]) => sum + n, 0);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

interface SigningKey { kid: string; alg: string; privateKey: Jose.CryptoKey; publicJwk: Jose.JWK; publicPem: string }

async function signingKey(kid: string, alg: 'RS256' | 'ES256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await jose.generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await jose.exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicJwk, publicPem: await jose.exportSPKI(publicKey) };
}

interface TokenOptions {
  key: SigningKey;
  issuer: string;
  claims?: Record<string, unknown>;
  audience?: string | string[];
  expiresAt?: number;
  kid?: string;
}

function sign(o: TokenOptions): Promise<string> {
  const jwt = new jose.SignJWT({ scope: 'functions:invoke functions:read', client_id: 'ci-pipeline', ...o.claims })
    .setProtectedHeader({ alg: o.key.alg, kid: o.kid ?? o.key.kid, typ: 'JWT' })
    .setIssuer(o.issuer)
    .setSubject('user-42')
    .setAudience(o.audience ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(o.expiresAt ?? nowSeconds() + 300);
  return jwt.sign(o.key.privateKey);
}

/** Loads the shipped bundle as a new container would (its own JWKS cache), with this issuer and audience. */
function loadAuthorizer(env: Record<string, string>): AuthorizerFn {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    let handler: AuthorizerFn | undefined;
    jest.isolateModules(() => { handler = loadHandler<AuthorizerFn>(shippedBundle(ENTRY)); });
    return handler!;
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]; else process.env[k] = v;
    }
  }
}

const containerFor = (issuer: string, logLevel = 'SILENT') =>
  loadAuthorizer({ [E.JWT_ISSUER]: issuer, [E.JWT_AUDIENCE]: JSON.stringify(['other-api', AUDIENCE]), POWERTOOLS_LOG_LEVEL: logLevel });

/** What the handler logs while `run` runs: Powertools writes through a Console on the process streams (WARN and ERROR on stderr). */
async function captureLogs(run: () => Promise<unknown>): Promise<string> {
  const written: string[] = [];
  const spies = [process.stdout, process.stderr].map((stream) =>
    jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => { written.push(String(chunk)); return true; }));
  try {
    await run();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return written.join('');
}

const logEntries = (logs: string) => logs.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
const call = (fn: AuthorizerFn, authorizationToken: string, methodArn = METHOD_ARN) =>
  fn({ type: 'TOKEN', authorizationToken, methodArn }, fakeContext('jwt-authorizer'));

beforeAll(async () => {
  jose = requireBundle(await bundleEntry(require.resolve('jose')));
  configureHandlerEnv();
});

function requireBundle(bundle: { file: string }): typeof Jose {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(bundle.file);
}

describe('JWT authorizer (shipped bundle) against a local issuer', () => {
  let server: LocalIssuer;
  let rsa: SigningKey;
  let ec: SigningKey;
  let authorizer: AuthorizerFn;

  beforeAll(async () => {
    server = await new LocalIssuer().start('/tenant-a');
    [rsa, ec] = await Promise.all([signingKey('rsa-1', 'RS256'), signingKey('ec-1', 'ES256')]);
    server.jwks = [rsa.publicJwk, ec.publicJwk];
    authorizer = containerFor(server.issuer, 'WARN');
  });
  afterAll(() => server.stop());

  it('allows a valid token on every route of the stage, naming the subject, its scopes and client', async () => {
    const token = await sign({ key: rsa, issuer: server.issuer });
    const policy = await call(authorizer, `Bearer ${token}`);
    expect(policy).toEqual({
      principalId: 'user-42',
      policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: STAGE_WILDCARD }] },
      context: { sub: 'user-42', scope: 'functions:invoke functions:read', clientId: 'ci-pipeline' },
    });
    // Another route of the same stage gets the same resource: API Gateway's cached answer fits it.
    const other = await call(authorizer, `Bearer ${token}`, 'arn:aws:execute-api:eu-west-1:123456789012:abc123def4/prod/GET/v1.0/functions');
    expect(other.policyDocument.Statement[0].Resource).toBe(STAGE_WILDCARD);
  });

  it('accepts ES256, a lower-case scheme, an `scp` array and no client id (context holds strings only)', async () => {
    const token = await sign({ key: ec, issuer: server.issuer, claims: { scope: undefined, client_id: undefined, scp: ['a', 'b'] } });
    const policy = await call(authorizer, `bearer ${token}`);
    expect(policy.context).toEqual({ sub: 'user-42', scope: 'a b' });
  });

  it('honours the 60 s clock tolerance: expired 30 s ago passes, 120 s ago does not', async () => {
    await expect(call(authorizer, `Bearer ${await sign({ key: rsa, issuer: server.issuer, expiresAt: nowSeconds() - 30 })}`)).resolves.toMatchObject({ principalId: 'user-42' });
    const late = await sign({ key: rsa, issuer: server.issuer, expiresAt: nowSeconds() - 120 });
    await captureLogs(() => expect(call(authorizer, `Bearer ${late}`)).rejects.toThrow(/^Unauthorized$/));
  });

  /** Each case: the Authorization header the caller sends, and the reason the authorizer logs. */
  const refused: [string, () => Promise<string>, RegExp][] = [
    ['a wrong issuer', async () => `Bearer ${await sign({ key: rsa, issuer: `${server.issuer}-evil` })}`, /ERR_JWT_CLAIM_VALIDATION_FAILED: unexpected "iss"/],
    ['a wrong audience', async () => `Bearer ${await sign({ key: rsa, issuer: server.issuer, audience: 'https://another.example.com' })}`, /unexpected "aud"/],
    ['an expired token', async () => `Bearer ${await sign({ key: rsa, issuer: server.issuer, expiresAt: nowSeconds() - 3600 })}`, /ERR_JWT_EXPIRED/],
    ['a token not yet valid (nbf beyond the tolerance)', async () => `Bearer ${await sign({ key: rsa, issuer: server.issuer, claims: { nbf: nowSeconds() + 600 } })}`, /"nbf" claim timestamp check failed/],
    ['a token without exp', async () => `Bearer ${await new jose.SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: rsa.kid }).setIssuer(server.issuer).setSubject('user-42').setAudience(AUDIENCE).sign(rsa.privateKey)}`, /missing required "exp"/],
    ['a token without sub', async () => `Bearer ${await new jose.SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: rsa.kid }).setIssuer(server.issuer).setAudience(AUDIENCE).setExpirationTime('5m').sign(rsa.privateKey)}`, /missing required "sub"/],
    ['HS256 signed with the public key bytes (algorithm confusion)', async () => {
      const input = `${b64url({ alg: 'HS256', kid: rsa.kid, typ: 'JWT' })}.${b64url({ iss: server.issuer, aud: AUDIENCE, sub: 'admin', exp: nowSeconds() + 300 })}`;
      return `Bearer ${input}.${createHmac('sha256', rsa.publicPem).update(input).digest('base64url')}`;
    }, /ERR_JOSE_ALG_NOT_ALLOWED/],
    ['alg none', async () => `Bearer ${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ iss: server.issuer, aud: AUDIENCE, sub: 'admin', exp: nowSeconds() + 300 })}.`, /ERR_JOSE_ALG_NOT_ALLOWED/],
    ['an unknown kid', async () => `Bearer ${await sign({ key: await signingKey('stranger', 'RS256'), issuer: server.issuer })}`, /ERR_JWKS_NO_MATCHING_KEY/],
    ['a key of the issuer named by another key\'s kid', async () => `Bearer ${await sign({ key: await signingKey('x', 'RS256'), issuer: server.issuer, kid: rsa.kid })}`, /ERR_JWS_SIGNATURE_VERIFICATION_FAILED/],
    ['a tampered payload', async () => {
      const [header, , signature] = (await sign({ key: rsa, issuer: server.issuer })).split('.');
      return `Bearer ${header}.${b64url({ iss: server.issuer, aud: AUDIENCE, sub: 'admin', exp: nowSeconds() + 300 })}.${signature}`;
    }, /ERR_JWS_SIGNATURE_VERIFICATION_FAILED/],
    ['a token without the Bearer scheme', async () => sign({ key: rsa, issuer: server.issuer }), /not "Bearer <jwt>"/],
    ['a Basic credential', async () => `Basic ${Buffer.from('user:pass').toString('base64')}`, /not "Bearer <jwt>"/],
    ['an empty header', async () => '', /no authorization token/],
    ['a token over 8 KB', async () => `Bearer ${await sign({ key: rsa, issuer: server.issuer, claims: { padding: 'x'.repeat(8 * 1024) } })}`, /longer than 8192/],
    ['8 KB of garbage after Bearer', async () => `Bearer ${'a'.repeat(9000)}`, /longer than 8192/],
  ];

  it.each(refused)('refuses %s with exactly "Unauthorized", for that reason', async (_case, header, reason) => {
    const authorization = await header();
    const logs = await captureLogs(() => expect(call(authorizer, authorization)).rejects.toThrow(/^Unauthorized$/));
    expect(logEntries(logs)).toEqual([expect.objectContaining({ level: 'WARN', message: 'token refused', reason: expect.stringMatching(reason) })]);
  });

  it('fetches discovery and the JWKS once for many verifications in a container', async () => {
    const counted = await new LocalIssuer().start('/tenant-count');
    counted.jwks = [rsa.publicJwk];
    try {
      const fn = containerFor(counted.issuer);
      const token = await sign({ key: rsa, issuer: counted.issuer });
      // Concurrent first calls share one discovery and one JWKS fetch; later calls use the cache.
      await Promise.all(Array.from({ length: 20 }, () => call(fn, `Bearer ${token}`)));
      for (let i = 0; i < 30; i++) await call(fn, `Bearer ${await sign({ key: rsa, issuer: counted.issuer, claims: { n: i } })}`);
      expect(counted.hitsOn('/.well-known/openid-configuration')).toBe(1);
      expect(counted.hitsOn('/keys')).toBe(1);
    } finally {
      await counted.stop();
    }
  });
});

describe('JWT authorizer key rotation, discovery fallback and outages', () => {
  let rsa: SigningKey;
  beforeAll(async () => { rsa = await signingKey('rsa-old', 'RS256'); });
  afterEach(() => jest.restoreAllMocks());

  it('accepts a token of a key rotated into the JWKS after the cache was filled (after jose\'s 30 s re-fetch cooldown)', async () => {
    const server = await new LocalIssuer().start('/tenant-rotate');
    server.jwks = [rsa.publicJwk];
    try {
      const fn = containerFor(server.issuer);
      await call(fn, `Bearer ${await sign({ key: rsa, issuer: server.issuer })}`);
      expect(server.hitsOn('/keys')).toBe(1);

      const next = await signingKey('rsa-new', 'RS256');
      server.jwks = [rsa.publicJwk, next.publicJwk];
      const rotated = await sign({ key: next, issuer: server.issuer });
      // Within the cooldown an unknown kid does not re-fetch: a flood of made-up kids cannot hammer the issuer.
      await expect(call(fn, `Bearer ${rotated}`)).rejects.toThrow(/^Unauthorized$/);
      expect(server.hitsOn('/keys')).toBe(1);

      // 31 s later (jose's cooldown clock is Date.now; token times are unaffected) the unknown kid re-fetches once.
      const realNow = Date.now.bind(Date);
      jest.spyOn(Date, 'now').mockImplementation(() => realNow() + 31_000);
      await expect(call(fn, `Bearer ${rotated}`)).resolves.toMatchObject({ principalId: 'user-42' });
      await expect(call(fn, `Bearer ${await sign({ key: rsa, issuer: server.issuer })}`)).resolves.toMatchObject({ principalId: 'user-42' });
      await expect(call(fn, `Bearer ${rotated}`)).resolves.toMatchObject({ principalId: 'user-42' });
      expect(server.hitsOn('/keys')).toBe(2);
      expect(server.hitsOn('/.well-known/openid-configuration')).toBe(1);
    } finally {
      await server.stop();
    }
  });

  it.each([
    ['has no jwks_uri', (issuer: string) => ({ issuer })],
    ['is missing (404)', undefined],
  ])('reads {issuer}/.well-known/jwks.json when the discovery document %s', async (_case, discovery) => {
    const server = await new LocalIssuer().start('/tenant-fallback');
    server.jwks = [rsa.publicJwk];
    server.discovery = discovery;
    try {
      const fn = containerFor(server.issuer);
      await expect(call(fn, `Bearer ${await sign({ key: rsa, issuer: server.issuer })}`)).resolves.toMatchObject({ principalId: 'user-42' });
      expect(server.hitsOn('/.well-known/jwks.json')).toBe(1);
      expect(server.hitsOn('/keys')).toBe(0);
    } finally {
      await server.stop();
    }
  });

  it('refuses keys from a discovery document naming another issuer (OIDC Discovery 4.3)', async () => {
    const server = await new LocalIssuer().start('/tenant-mixup');
    server.jwks = [rsa.publicJwk];
    server.discovery = (issuer) => ({ issuer: `${issuer}-other`, jwks_uri: `${issuer}/keys` });
    try {
      await expect(call(containerFor(server.issuer), `Bearer ${await sign({ key: rsa, issuer: server.issuer })}`)).rejects.toThrow('Authorizer unavailable');
      expect(server.hitsOn('/keys')).toBe(0);
    } finally {
      await server.stop();
    }
  });

  it.each(['/.well-known/openid-configuration', '/keys'])('answers an outage of %s with an error that is not "Unauthorized" (API Gateway 500), then recovers', async (path) => {
    const server = await new LocalIssuer().start('/tenant-outage');
    server.jwks = [rsa.publicJwk];
    try {
      const fn = containerFor(server.issuer);
      const token = await sign({ key: rsa, issuer: server.issuer });
      server.failNext = { path, status: 503 };
      await expect(call(fn, `Bearer ${token}`)).rejects.toThrow('Authorizer unavailable');
      await expect(call(fn, `Bearer ${token}`)).resolves.toMatchObject({ principalId: 'user-42' });
    } finally {
      await server.stop();
    }
  });

  it('logs why a token was refused and who was let in, never the token', async () => {
    const server = await new LocalIssuer().start('/tenant-logs');
    server.jwks = [rsa.publicJwk];
    try {
      const fn = containerFor(server.issuer, 'DEBUG');
      const expired = await sign({ key: rsa, issuer: server.issuer, expiresAt: nowSeconds() - 3600 });
      const valid = await sign({ key: rsa, issuer: server.issuer });
      const logs = await captureLogs(async () => {
        await expect(call(fn, `Bearer ${expired}`)).rejects.toThrow(/^Unauthorized$/);
        await call(fn, `Bearer ${valid}`);
      });
      expect(logEntries(logs)).toEqual([
        expect.objectContaining({ message: 'token refused', reason: expect.stringMatching(/^ERR_JWT_EXPIRED/) }),
        expect.objectContaining({ message: 'token accepted', sub: 'user-42' }),
      ]);
      for (const part of [...expired.split('.'), ...valid.split('.')]) expect(logs).not.toContain(part);
    } finally {
      await server.stop();
    }
  });
});

describe('JWT authorizer configuration fails the cold start naming the variable', () => {
  it.each([
    [E.JWT_AUDIENCE, 'https://x.example.com', 'not JSON'],
    [E.JWT_AUDIENCE, '[]', 'an empty array'],
    [E.JWT_AUDIENCE, '["ok", 3]', 'a non-string entry'],
    [E.JWT_ISSUER, 'http://issuer.example.com', 'plain http off the loopback host'],
    [E.JWT_ISSUER, 'issuer.example.com', 'not a URL'],
  ])('%s = %s (%s)', (name, value, _why) => {
    const env = { [E.JWT_ISSUER]: 'https://issuer.example.com', [E.JWT_AUDIENCE]: '["api"]', [name]: value };
    expect(() => loadAuthorizer(env)).toThrow(new RegExp(`Environment variable ${name} must`));
  });

  it('a missing variable is named too', () => {
    expect(() => loadAuthorizer({ [E.JWT_ISSUER]: 'https://issuer.example.com', [E.JWT_AUDIENCE]: '' })).toThrow(E.JWT_AUDIENCE);
  });
});
