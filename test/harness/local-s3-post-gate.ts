import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { REGION } from './local-aws';

/**
 * S3's browser-POST checks, in front of fauxqs. fauxqs stores any form POST without looking at
 * its policy or signature, so a test through it alone would pass whatever the policy says. This
 * gate does what S3 does first: SigV4 signature over the policy, `expiration`, every condition
 * (exact `{field: value}`, `eq`, `starts-with`, `content-length-range` against the file's real
 * byte count, `bucket` against the URL), every form field covered by a condition; then it
 * forwards the untouched request to fauxqs. Refusals are S3's: 403 AccessDenied /
 * SignatureDoesNotMatch, 400 EntityTooLarge / EntityTooSmall / InvalidArgument, as XML.
 * Every other request (SDK GETs, PUTs, lists, multipart uploads) passes through unchanged, so
 * the gate can be the one S3 endpoint of a test whose handlers presign and also read and write.
 */
export interface S3PostGate {
  /** Put in the presigning client's AWS_ENDPOINT_URL_S3 (path-style): POST `{endpoint}/{bucket}`. */
  readonly endpoint: string;
  /** Every form POST and what the gate answered. */
  readonly requests: Array<{ bucket: string; key?: string; status: number; code?: string }>;
  stop(): Promise<void>;
}

export interface S3PostGateOptions {
  /** fauxqs's endpoint. */
  readonly target: string;
  /** Access key id → secret access key the gate knows (the tests' static credentials). */
  readonly credentials?: Record<string, string>;
  readonly region?: string;
  /** S3's clock, for expiry (settable to test an expired policy). */
  readonly now?: () => Date;
}

class S3Refusal extends Error {
  constructor(readonly status: number, readonly code: string, message: string) { super(message); }
}
const denied = (message: string) => new S3Refusal(403, 'AccessDenied', message);

const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
/** Form fields S3 never requires a condition for. */
const EXEMPT = (name: string) => ['policy', 'x-amz-signature', 'file'].includes(name) || name.startsWith('x-ignore-');

type Condition = Record<string, string> | [string, ...unknown[]];

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The form's fields up to the file (S3 ignores fields after it), with lower-cased names, and the file's bytes. */
async function parseForm(body: Buffer, contentType: string): Promise<{ fields: Map<string, string>; file?: Buffer }> {
  let form: FormData;
  try {
    // undici's multipart parser (Node's fetch): no dependency, and the same one browsers' forms meet.
    form = await new Request('http://gate.local/', { method: 'POST', headers: { 'content-type': contentType }, body }).formData();
  } catch {
    throw new S3Refusal(400, 'MalformedPOSTRequest', 'The body of your POST request is not well-formed multipart/form-data.');
  }
  const fields = new Map<string, string>();
  for (const [name, value] of form.entries()) {
    if (name.toLowerCase() === 'file') {
      const file = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(await value.arrayBuffer());
      return { fields, file };
    }
    if (typeof value === 'string') fields.set(name.toLowerCase(), value);
  }
  return { fields };
}

function verifySignature(fields: Map<string, string>, secrets: Record<string, string>, region: string): void {
  const need = (name: string) => {
    const value = fields.get(name);
    if (value === undefined) throw new S3Refusal(400, 'InvalidArgument', `Bucket POST must contain a field named '${name}'.`);
    return value;
  };
  const policy = need('policy');
  const signature = need('x-amz-signature');
  if (need('x-amz-algorithm') !== 'AWS4-HMAC-SHA256') throw new S3Refusal(400, 'InvalidArgument', 'Only AWS4-HMAC-SHA256 is supported');
  const [accessKeyId, date, scopeRegion, service, terminal, ...rest] = need('x-amz-credential').split('/');
  if (rest.length || service !== 's3' || terminal !== 'aws4_request' || scopeRegion !== region || need('x-amz-date').slice(0, 8) !== date) {
    throw new S3Refusal(400, 'AuthorizationQueryParametersError', 'Error parsing the X-Amz-Credential parameter');
  }
  const secret = secrets[accessKeyId];
  if (secret === undefined) throw new S3Refusal(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), scopeRegion), 's3'), 'aws4_request');
  const expected = hmac(signingKey, policy);
  const given = /^[0-9a-f]{64}$/.test(signature) ? Buffer.from(signature, 'hex') : Buffer.alloc(0);
  if (given.length !== 32 || !timingSafeEqual(given, expected)) {
    throw new S3Refusal(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
  }
}

function checkPolicy(fields: Map<string, string>, file: Buffer | undefined, bucket: string, now: Date): void {
  let policy: { expiration?: unknown; conditions?: unknown };
  try {
    policy = JSON.parse(Buffer.from(fields.get('policy')!, 'base64').toString('utf8'));
  } catch {
    throw new S3Refusal(400, 'InvalidPolicyDocument', 'Invalid Policy: Invalid JSON.');
  }
  if (typeof policy.expiration !== 'string' || Number.isNaN(Date.parse(policy.expiration)) || !Array.isArray(policy.conditions)) {
    throw new S3Refusal(400, 'InvalidPolicyDocument', 'Invalid Policy: expiration and conditions are required.');
  }
  if (Date.parse(policy.expiration) <= now.getTime()) throw denied('Invalid according to Policy: Policy expired.');
  if (!file) throw new S3Refusal(400, 'InvalidArgument', 'POST requires exactly one file upload per request.');
  const values = new Map(fields);
  values.set('bucket', bucket); // the URL's bucket, whatever a form field claims
  const covered = new Set<string>();
  for (const condition of policy.conditions as Condition[]) {
    if (Array.isArray(condition)) {
      const [op, ...args] = condition;
      if (op === 'content-length-range') {
        const [min, max] = args.map(Number);
        if (file.length > max) throw new S3Refusal(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size');
        if (file.length < min) throw new S3Refusal(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size');
        continue;
      }
      const field = String(args[0]).replace(/^\$/, '').toLowerCase();
      const expected = String(args[1]);
      const actual = values.get(field) ?? '';
      const ok = op === 'eq' ? actual === expected : op === 'starts-with' ? actual.startsWith(expected) : false;
      if (!ok) throw denied(`Invalid according to Policy: Policy Condition failed: ${JSON.stringify(condition)}`);
      covered.add(field);
    } else {
      for (const [name, expected] of Object.entries(condition)) {
        const field = name.toLowerCase();
        if (values.get(field) !== expected) throw denied(`Invalid according to Policy: Policy Condition failed: ${JSON.stringify(condition)}`);
        covered.add(field);
      }
    }
  }
  const extra = [...fields.keys()].find((name) => !EXEMPT(name) && !covered.has(name));
  if (extra) throw denied(`Invalid according to Policy: Extra input fields: ${extra}`);
}

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function refuse(res: ServerResponse, e: S3Refusal): void {
  res.writeHead(e.status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${e.code}</Code><Message>${xmlEscape(e.message)}</Message>`
    + `<RequestId>${randomUUID()}</RequestId></Error>`);
}

/** Streams a request to fauxqs and its answer back, untouched. */
function passThrough(req: IncomingMessage, res: ServerResponse, target: string): void {
  const upstream = request(`${target}${req.url ?? '/'}`, { method: req.method, headers: req.headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  upstream.on('error', (error) => refuse(res, new S3Refusal(502, 'InternalError', String(error))));
  req.pipe(upstream);
}

export async function startS3PostGate(options: S3PostGateOptions): Promise<S3PostGate> {
  const secrets = options.credentials ?? { test: 'test' };
  const region = options.region ?? REGION;
  const now = options.now ?? (() => new Date());
  const requests: S3PostGate['requests'] = [];
  const server: Server = createServer(async (req, res) => {
    if (!(req.method === 'POST' && /^multipart\/form-data/i.test(String(req.headers['content-type'] ?? '')))) {
      passThrough(req, res, options.target);
      return;
    }
    const bucket = decodeURIComponent((req.url ?? '/').split('?')[0].replace(/^\/+|\/+$/g, ''));
    const record = { bucket, status: 0 } as S3PostGate['requests'][number];
    requests.push(record);
    try {
      // Path-style form POSTs only: a browser POST goes to the bucket, never to a key.
      if (req.method !== 'POST' || !bucket || bucket.includes('/')) throw new S3Refusal(405, 'MethodNotAllowed', 'Only browser POSTs to a bucket pass this gate');
      const contentType = String(req.headers['content-type'] ?? '');
      if (!/^multipart\/form-data/i.test(contentType)) throw new S3Refusal(412, 'PreconditionFailed', 'Bucket POST must be of the enclosure-type multipart/form-data');
      const body = await readBody(req);
      const { fields, file } = await parseForm(body, contentType);
      record.key = fields.get('key');
      verifySignature(fields, secrets, region);
      checkPolicy(fields, file, bucket, now());
      const forwarded = await fetch(`${options.target}/${encodeURIComponent(bucket)}`, { method: 'POST', headers: { 'content-type': contentType }, body });
      record.status = forwarded.status;
      res.writeHead(forwarded.status, Object.fromEntries([...forwarded.headers].filter(([k]) => !['content-length', 'transfer-encoding', 'connection'].includes(k))));
      res.end(Buffer.from(await forwarded.arrayBuffer()));
    } catch (error) {
      const e = error instanceof S3Refusal ? error : new S3Refusal(500, 'InternalError', String(error));
      record.status = e.status;
      record.code = e.code;
      refuse(res, e);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/**
 * Sends a presigned POST as a browser form would: the fields in order, then the file last
 * (S3 ignores fields after it). `fields` overrides or adds form fields (a tampered form).
 */
export async function postForm(
  url: string, fields: Record<string, string>, file: Uint8Array,
): Promise<{ status: number; code?: string; body: string }> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', new Blob([file], { type: 'application/zip' }), 'archive.zip');
  const res = await fetch(url, { method: 'POST', body: form });
  const body = await res.text();
  return { status: res.status, code: /<Code>([^<]+)<\/Code>/.exec(body)?.[1], body };
}
