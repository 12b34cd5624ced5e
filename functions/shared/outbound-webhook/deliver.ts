import * as http from 'node:http';
import * as https from 'node:https';
import type { Socket } from 'node:net';
import { parseRetryAfter } from './backoff';
import { checkConnectedPeer, createGuardedAgent, GuardedAgentOptions, parseWebhookUrl, WebhookBlockedError } from './ssrf-guard';
import { signStandardWebhook, WebhookSigningError } from './standard-webhooks-signer';

/**
 * One delivery attempt of a signed webhook to a user-supplied URL, through the SSRF guard:
 * a POST with the Standard Webhooks headers, no redirects followed (a 3xx is a result), a
 * connect and a total timeout, the first `maxResponseBytes` of the response kept for the
 * delivery log and the rest discarded, no cookies or credentials, a fixed user agent.
 * Every outcome of the attempt, a refused destination included, is a {@link DeliveryResult} (only a bug rejects).
 * Retrying (when, how often) is the caller's: see `nextDelay` in `./backoff`.
 */

export interface WebhookTarget {
  /** https (http only with `allowHttp`); no credentials in it. */
  readonly url: string;
}

export interface WebhookMessage {
  /** The message id (`webhook-id`), the same on every attempt: receivers dedupe on it. */
  readonly id: string;
  /** The JSON body, exactly as sent and signed. */
  readonly body: string;
}

export interface DeliveryOptions extends GuardedAgentOptions {
  /** The active `whsec_` secrets, newest first; each signs (rotation). */
  readonly secrets: readonly string[];
  /** Time allowed to connect (TCP and, for https, the TLS handshake). @default 5_000 ms */
  readonly connectTimeoutMs?: number;
  /** Time allowed for the whole attempt, connect to response read. @default 10_000 ms */
  readonly totalTimeoutMs?: number;
  /** Response bytes kept; the rest is discarded and the connection closed. @default 4_096 */
  readonly maxResponseBytes?: number;
  /** @default 'cdk-event-services-webhooks/1' */
  readonly userAgent?: string;
  /** This attempt's number (1-based), echoed in the result for the delivery log. @default 1 */
  readonly attempt?: number;
  /** The clock for `webhook-timestamp`. */
  readonly now?: () => Date;
}

export type DeliveryOutcome =
  | 'delivered' // 2xx
  | 'gone' // 410: the receiver wants no more deliveries; stop and disable the endpoint
  | 'retry' // 408, 429, 5xx, timeout, connection or TLS error
  | 'rejected' // other 4xx (and 1xx/other codes): not retried
  | 'redirected' // 3xx: not followed, not retried
  | 'blocked' // SSRF guard, bad URL, bad secret: not retried
  ;

export interface DeliveryResult {
  readonly outcome: DeliveryOutcome;
  /** The HTTP status, or 0 when no response came. */
  readonly status: number;
  readonly ok: boolean;
  readonly retryable: boolean;
  readonly attempts: number;
  /** The first `maxResponseBytes` of the response body, as UTF-8. */
  readonly responseSnippet: string;
  /** The response had more than `maxResponseBytes` (the rest was discarded). */
  readonly truncated: boolean;
  readonly durationMs: number;
  /** The receiver's Retry-After (429 / 503), in ms. */
  readonly retryAfterMs?: number;
  /** A 3xx's Location, for the log (never followed). */
  readonly location?: string;
  readonly error?: { readonly code: string; readonly message: string };
}

export const DELIVERY_DEFAULTS = {
  connectTimeoutMs: 5_000,
  totalTimeoutMs: 10_000,
  maxResponseBytes: 4_096,
  userAgent: 'cdk-event-services-webhooks/1',
} as const;

class DeliveryTimeoutError extends Error {
  override readonly name: string = 'DeliveryTimeoutError';
  constructor(readonly code: 'CONNECT_TIMEOUT' | 'TIMEOUT', message: string) { super(message); }
}

function outcomeOf(status: number): { outcome: DeliveryOutcome; ok: boolean; retryable: boolean } {
  if (status >= 200 && status < 300) return { outcome: 'delivered', ok: true, retryable: false };
  if (status === 410) return { outcome: 'gone', ok: false, retryable: false };
  if (status === 408 || status === 429 || status >= 500) return { outcome: 'retry', ok: false, retryable: true };
  if (status >= 300 && status < 400) return { outcome: 'redirected', ok: false, retryable: false };
  return { outcome: 'rejected', ok: false, retryable: false };
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code ? code : 'ERROR';
}

export async function deliver(target: WebhookTarget, message: WebhookMessage, options: DeliveryOptions): Promise<DeliveryResult> {
  const started = Date.now();
  const attempts = options.attempt ?? 1;
  const base = { attempts, responseSnippet: '', truncated: false };
  const refused = (error: Error): DeliveryResult => ({
    ...base,
    outcome: 'blocked',
    status: 0,
    ok: false,
    retryable: false,
    durationMs: Date.now() - started,
    error: { code: errorCode(error) === 'ERROR' ? 'INVALID' : errorCode(error), message: error.message },
  });

  const body = Buffer.from(message.body, 'utf8');
  let parsed;
  let headers;
  try {
    parsed = parseWebhookUrl(target.url, options);
    headers = {
      ...signStandardWebhook({ id: message.id, body, secrets: options.secrets, at: (options.now ?? (() => new Date()))() }),
      'content-type': 'application/json',
      'content-length': String(body.length),
      'user-agent': options.userAgent ?? DELIVERY_DEFAULTS.userAgent,
      'accept': '*/*',
      'connection': 'close',
    };
  } catch (error) {
    if (error instanceof WebhookBlockedError || error instanceof WebhookSigningError) return refused(error);
    throw error;
  }

  const connectTimeoutMs = options.connectTimeoutMs ?? DELIVERY_DEFAULTS.connectTimeoutMs;
  const totalTimeoutMs = options.totalTimeoutMs ?? DELIVERY_DEFAULTS.totalTimeoutMs;
  const maxResponseBytes = options.maxResponseBytes ?? DELIVERY_DEFAULTS.maxResponseBytes;
  const protocol = parsed.url.protocol as 'https:' | 'http:';
  const agent = createGuardedAgent(protocol, options);
  const requestFn = protocol === 'https:' ? https.request : http.request;

  return new Promise<DeliveryResult>((resolve) => {
    let settled = false;
    let status = 0;
    let retryAfterMs: number | undefined;
    let location: string | undefined;
    const kept: Buffer[] = [];
    let keptBytes = 0;
    let truncated = false;
    const timers: NodeJS.Timeout[] = [];

    const finish = (error?: unknown): void => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      const durationMs = Date.now() - started;
      const responseSnippet = Buffer.concat(kept).toString('utf8');
      const extras = { ...(retryAfterMs !== undefined ? { retryAfterMs } : {}), ...(location !== undefined ? { location } : {}) };
      if (status > 0) {
        // A response came: its status decides, even if the body was cut short or timed out.
        resolve({ ...base, ...outcomeOf(status), status, responseSnippet, truncated, durationMs, ...extras });
      } else if (error instanceof WebhookBlockedError) {
        resolve({ ...refused(error), durationMs });
      } else {
        const text = error instanceof Error ? error.message : String(error);
        resolve({ ...base, outcome: 'retry', status: 0, ok: false, retryable: true, durationMs, error: { code: errorCode(error), message: text } });
      }
      request.destroy();
      agent.destroy();
    };

    const request = requestFn({
      protocol,
      hostname: parsed.hostname,
      port: parsed.port,
      path: `${parsed.url.pathname}${parsed.url.search}`,
      method: 'POST',
      headers,
      agent,
      servername: parsed.isIpLiteral ? undefined : parsed.hostname,
    } as https.RequestOptions);

    timers.push(setTimeout(() => request.destroy(new DeliveryTimeoutError('TIMEOUT', `No complete response within ${totalTimeoutMs} ms`)), totalTimeoutMs));
    const connectTimer = setTimeout(
      () => request.destroy(new DeliveryTimeoutError('CONNECT_TIMEOUT', `Not connected within ${connectTimeoutMs} ms`)), connectTimeoutMs);
    timers.push(connectTimer);

    request.on('socket', (socket: Socket) => {
      socket.once(protocol === 'https:' ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
      socket.once('connect', () => checkConnectedPeer(socket, options));
    });
    request.on('error', (error) => finish(error));
    request.on('response', (response) => {
      status = response.statusCode ?? 0;
      const retryAfter = response.headers['retry-after'];
      if (status === 429 || status === 503) retryAfterMs = parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
      if (status >= 300 && status < 400 && typeof response.headers.location === 'string') location = response.headers.location.slice(0, 2048);
      response.on('data', (chunk: Buffer) => {
        if (settled) return;
        const room = maxResponseBytes - keptBytes;
        if (chunk.length > room) {
          if (room > 0) kept.push(chunk.subarray(0, room));
          keptBytes = maxResponseBytes;
          truncated = true;
          finish(); // enough kept: the rest is discarded by closing the connection
          return;
        }
        kept.push(chunk);
        keptBytes += chunk.length;
      });
      response.on('end', () => finish());
      response.on('error', (error) => finish(error));
      response.on('close', () => finish());
    });
    request.end(body);
  });
}
