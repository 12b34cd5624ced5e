import { promises as dnsPromises } from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import * as http from 'node:http';
import * as https from 'node:https';
import type { Socket } from 'node:net';
import * as ipaddr from 'ipaddr.js';

/**
 * SSRF guard for webhooks sent to URLs that users supply (build status webhooks, invoke
 * callbacks). The address is checked where the connection is made: the agent's `lookup`
 * refuses a name if any address it resolves to is not public, so a DNS answer that changes
 * between a check and the connect (rebinding) changes nothing; a URL whose host is an IP
 * literal (no lookup happens) is checked when it is parsed, after WHATWG URL parsing has
 * normalised every IPv4 notation (`2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1`) to dotted
 * decimal. A connected socket whose peer is not public is destroyed as a last line.
 *
 * Only global unicast passes: IPv4 that ipaddr.js calls `unicast` (not loopback, private,
 * link-local incl. 169.254.169.254, CGNAT, multicast, broadcast, unspecified (0/8),
 * reserved / documentation / benchmarking ranges), IPv6 in 2000::/3 that ipaddr.js calls
 * `unicast` (not ::1, ::, fc00::/7, fe80::/10, fec0::/10, multicast, 2001:db8::/32, NAT64,
 * 6to4, Teredo, which can all carry an internal IPv4); IPv4-mapped IPv6 (`::ffff:127.0.0.1`)
 * is judged as the IPv4 it carries.
 */

/** The request was refused before (or at) connect: the destination is not allowed. Never retried. */
export class WebhookBlockedError extends Error {
  override readonly name: string = 'WebhookBlockedError';
  readonly code = 'WEBHOOK_BLOCKED';
}

export interface AddressVerdict {
  readonly allowed: boolean;
  /** ipaddr.js's range name (`loopback`, `private`, `linkLocal`, `uniqueLocal`, ...), `invalid`, or `notGlobalUnicast`. */
  readonly range: string;
  /** The address judged: for an IPv4-mapped IPv6 address, the IPv4 it carries. */
  readonly address: string;
}

const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR('2000::/3');

/** Is this IP address (any notation ipaddr.js parses) a public destination? */
export function classifyAddress(ip: string): AddressVerdict {
  const text = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  // isValidFourPartDecimal refuses inet_aton's other IPv4 forms here; URLs are normalised by WHATWG URL parsing before.
  if (!ipaddr.IPv6.isValid(text) && !ipaddr.IPv4.isValidFourPartDecimal(text)) return { allowed: false, range: 'invalid', address: text };
  let parsed: ipaddr.IPv4 | ipaddr.IPv6 = ipaddr.parse(text);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  const range = parsed.range();
  const address = parsed.toString();
  if (range !== 'unicast') return { allowed: false, range, address };
  if (parsed.kind() === 'ipv6' && !(parsed as ipaddr.IPv6).match(GLOBAL_UNICAST_V6)) return { allowed: false, range: 'notGlobalUnicast', address };
  return { allowed: true, range, address };
}

export type Resolver = (hostname: string) => Promise<readonly LookupAddress[]>;

export interface GuardOptions {
  /** Allow `http:` URLs. Default false: https only. For local tests. */
  readonly allowHttp?: boolean;
  /**
   * Let an otherwise refused address through. Tests only (their receivers listen on
   * 127.0.0.1); production code leaves it unset, and then nothing but global unicast passes.
   */
  readonly allowAddress?: (ip: string) => boolean;
  /** How names resolve. Default: the system resolver (`dns.lookup`, every address). Tests pass a stub. */
  readonly resolve?: Resolver;
}

function isAllowed(ip: string, options: GuardOptions): AddressVerdict {
  const verdict = classifyAddress(ip);
  if (!verdict.allowed && options.allowAddress?.(verdict.address)) return { ...verdict, allowed: true };
  return verdict;
}

function refuse(what: string, verdict: AddressVerdict): WebhookBlockedError {
  return new WebhookBlockedError(`Webhook destination refused: ${what} is ${verdict.address} (${verdict.range}), not a public address`);
}

export interface GuardedUrl {
  readonly url: URL;
  /** The host as `http.request` wants it (IPv6 without brackets). */
  readonly hostname: string;
  readonly port: number;
  readonly isIpLiteral: boolean;
}

const MAX_URL_LENGTH = 2048;

/** Parses and checks a webhook URL without touching the network: scheme, no credentials, IP literal ranges. */
export function parseWebhookUrl(raw: string, options: GuardOptions = {}): GuardedUrl {
  if (raw.length > MAX_URL_LENGTH) throw new WebhookBlockedError(`Webhook URL longer than ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookBlockedError('Webhook URL is not a valid absolute URL');
  }
  const allowedSchemes = options.allowHttp ? ['https:', 'http:'] : ['https:'];
  if (!allowedSchemes.includes(url.protocol)) {
    throw new WebhookBlockedError(`Webhook URL scheme ${url.protocol} refused: ${options.allowHttp ? 'http or https' : 'https'} only`);
  }
  if (url.username || url.password) throw new WebhookBlockedError('Webhook URL must not carry credentials');
  const bracketed = url.hostname.startsWith('[');
  const hostname = bracketed ? url.hostname.slice(1, -1) : url.hostname;
  if (!hostname) throw new WebhookBlockedError('Webhook URL has no host');
  const isIpLiteral = bracketed || ipaddr.IPv4.isValidFourPartDecimal(hostname);
  if (isIpLiteral) {
    const verdict = isAllowed(hostname, options);
    if (!verdict.allowed) throw refuse(`host ${hostname}`, verdict);
  } else if (!hostname.includes('.') || hostname === 'localhost' || hostname.endsWith('.localhost')) {
    // Not an IP; single-label names reach search domains and localhost may never hit DNS. The connect-time check stays the real one.
    if (!options.allowAddress) throw new WebhookBlockedError(`Webhook host ${hostname} refused: a public DNS name is required`);
  }
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  return { url, hostname, port, isIpLiteral };
}

async function systemResolve(hostname: string): Promise<readonly LookupAddress[]> {
  return dnsPromises.lookup(hostname, { all: true, verbatim: true });
}

/** Resolves a name and refuses it if any of its addresses is not allowed; returns the addresses. */
export async function resolveAllowed(hostname: string, options: GuardOptions = {}): Promise<readonly LookupAddress[]> {
  const addresses = await (options.resolve ?? systemResolve)(hostname);
  if (addresses.length === 0) throw Object.assign(new Error(`No address for ${hostname}`), { code: 'ENOTFOUND' });
  for (const { address } of addresses) {
    const verdict = isAllowed(address, options);
    if (!verdict.allowed) throw refuse(`${hostname} resolves to ${address}, which`, verdict);
  }
  return addresses;
}

/**
 * An early check, e.g. when a user registers a webhook URL (a clear 400 instead of a failed
 * delivery later). It proves nothing about the next lookup: delivery checks again at connect.
 */
export async function checkWebhookUrl(raw: string, options: GuardOptions = {}): Promise<GuardedUrl> {
  const parsed = parseWebhookUrl(raw, options);
  if (!parsed.isIpLiteral) await resolveAllowed(parsed.hostname, options);
  return parsed;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `lookup` for `net.connect` / an Agent that only ever hands the socket an allowed address. */
export function guardedLookup(options: GuardOptions = {}) {
  return (hostname: string, lookupOptions: LookupOptions, callback: LookupCallback): void => {
    resolveAllowed(hostname, options).then((found) => {
      const wanted = lookupOptions.family === 4 || lookupOptions.family === 6 ? found.filter((a) => a.family === lookupOptions.family) : [...found];
      if (wanted.length === 0) {
        callback(Object.assign(new Error(`No IPv${lookupOptions.family} address for ${hostname}`), { code: 'ENOTFOUND' }), '');
      } else if (lookupOptions.all) {
        callback(null, wanted);
      } else {
        callback(null, wanted[0].address, wanted[0].family);
      }
    }, (error: NodeJS.ErrnoException) => callback(error, ''));
  };
}

/** Destroys a socket whose connected peer is not allowed (the last line: the lookup already refused it). */
export function checkConnectedPeer(socket: Socket, options: GuardOptions = {}): void {
  const peer = socket.remoteAddress;
  if (peer === undefined) return;
  const verdict = isAllowed(peer, options);
  if (!verdict.allowed) socket.destroy(refuse(`the connected peer ${peer}`, verdict));
}

export interface GuardedAgentOptions extends GuardOptions {
  /**
   * Trusted CA certificates (PEM), e.g. a test receiver's self-signed certificate. Like Node's
   * `ca`, it replaces the default roots: leave it unset in production (public CAs).
   */
  readonly ca?: string | readonly string[];
}

/** A one-connection agent (no keep-alive, so no socket outlives its check) with the guarded lookup. */
export function createGuardedAgent(protocol: 'https:' | 'http:', options: GuardedAgentOptions = {}): http.Agent {
  const common = { keepAlive: false, maxSockets: 1, lookup: guardedLookup(options) };
  if (protocol === 'http:') return new http.Agent(common);
  const ca = options.ca === undefined ? undefined : typeof options.ca === 'string' ? options.ca : [...options.ca];
  return new https.Agent({ ...common, ...(ca ? { ca } : {}), rejectUnauthorized: true, minVersion: 'TLSv1.2' });
}
