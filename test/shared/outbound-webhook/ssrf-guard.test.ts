import type { LookupAddress } from 'node:dns';
import {
  checkWebhookUrl, classifyAddress, guardedLookup, parseWebhookUrl, WebhookBlockedError,
} from '../../../functions/shared/outbound-webhook/ssrf-guard';

describe('the SSRF address classifier', () => {
  test.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.254', 'private'],
    ['192.168.0.1', 'private'],
    ['169.254.169.254', 'linkLocal'], // instance metadata
    ['169.254.0.1', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['100.127.255.254', 'carrierGradeNat'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['192.0.2.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fc00::1', 'uniqueLocal'],
    ['fd12:3456::1', 'uniqueLocal'],
    ['fe80::1', 'linkLocal'],
    ['[fe80::1]', 'linkLocal'],
    ['fec0::1', 'deprecatedSiteLocal'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'linkLocal'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:100.64.0.1', 'carrierGradeNat'],
    ['2001:db8::1', 'reserved'],
    ['64:ff9b::a9fe:a9fe', 'rfc6052'], // NAT64 of 169.254.169.254
    ['2002:a9fe:a9fe::1', '6to4'],
    ['2001::1', 'teredo'],
    ['::7f00:1', 'notGlobalUnicast'], // IPv4-compatible ::127.0.0.1
    ['2130706433', 'invalid'], // bare numbers are URL notation: WHATWG URL turns them into dotted quads first
    ['0x7f.1', 'invalid'],
    ['example.com', 'invalid'],
  ])('refuses %s (%s)', (ip, range) => {
    const verdict = classifyAddress(ip);
    expect(verdict.allowed).toBe(false);
    expect(verdict.range).toBe(range);
  });

  test.each(['8.8.8.8', '1.1.1.1', '93.184.216.34', '172.32.0.1', '100.128.0.1', '169.255.0.1', '2606:4700:4700::1111', '2a00:1450:4001::1', '::ffff:8.8.8.8'])(
    'allows the public address %s', (ip) => {
      expect(classifyAddress(ip)).toMatchObject({ allowed: true, range: 'unicast' });
    });
});

describe('webhook URL checks before any connection', () => {
  test.each([
    'https://169.254.169.254/latest/meta-data/',
    'https://127.0.0.1/',
    'https://127.1/',
    'https://0x7f.1/',
    'https://0x7f000001/',
    'https://2130706433/',
    'https://0177.0.0.1/',
    'https://017700000001/',
    'https://127.0.0.1./',
    'https://[::1]/',
    'https://[::ffff:127.0.0.1]/',
    'https://[::ffff:a9fe:a9fe]/',
    'https://[::127.0.0.1]/',
    'https://10.0.0.1/',
    'https://172.16.5.4/',
    'https://192.168.1.1/',
    'https://100.64.0.1/',
    'https://[fd00::1]/',
    'https://[fe80::1]/',
    'https://0/',
    'https://0.0.0.0/',
    'https://[::]/',
    'https://224.0.0.1/',
    'https://255.255.255.255/',
    'https://localhost/',
    'https://api.localhost/',
    'https://intranet/',
  ])('refuses %s', (url) => {
    expect(() => parseWebhookUrl(url)).toThrow(WebhookBlockedError);
  });

  test.each([
    ['http://example.com/hook', /scheme http: refused: https only/],
    ['ftp://example.com/hook', /scheme ftp: refused/],
    ['file:///etc/passwd', /scheme file: refused/],
    ['https://user:pass@example.com/hook', /credentials/],
    ['not a url', /not a valid absolute URL/],
    [`https://example.com/${'a'.repeat(2100)}`, /longer than/],
  ])('refuses %s', (url, message) => {
    expect(() => parseWebhookUrl(url)).toThrow(message);
  });

  test('accepts a public https URL; http only with allowHttp', () => {
    expect(parseWebhookUrl('https://hooks.example.com/builds?x=1')).toMatchObject({ hostname: 'hooks.example.com', port: 443, isIpLiteral: false });
    expect(parseWebhookUrl('http://hooks.example.com:8080/', { allowHttp: true })).toMatchObject({ port: 8080 });
    expect(parseWebhookUrl('https://[2606:4700:4700::1111]/')).toMatchObject({ hostname: '2606:4700:4700::1111', isIpLiteral: true });
  });

  test('the test-only allowance is explicit: without it 127.0.0.1 is refused, with it only what it allows passes', () => {
    expect(() => parseWebhookUrl('http://127.0.0.1:8080/', { allowHttp: true })).toThrow(/127\.0\.0\.1 \(loopback\)/);
    const allowLoopback = { allowHttp: true, allowAddress: (ip: string) => ip === '127.0.0.1' };
    expect(parseWebhookUrl('http://127.0.0.1:8080/', allowLoopback).port).toBe(8080);
    expect(() => parseWebhookUrl('http://169.254.169.254/', allowLoopback)).toThrow(WebhookBlockedError);
  });
});

describe('name resolution is checked, and checked again at connect', () => {
  const stub = (answers: Record<string, string[]>) => {
    const calls: string[] = [];
    const resolve = async (hostname: string): Promise<LookupAddress[]> => {
      calls.push(hostname);
      return (answers[hostname] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    };
    return { calls, resolve };
  };

  test.each([
    ['evil.example', ['127.0.0.1']],
    ['metadata.example', ['169.254.169.254']],
    ['mixed.example', ['93.184.216.34', '10.0.0.7']],
    ['v6.example', ['2606:4700::1', 'fd00::1']],
    ['mapped.example', ['::ffff:192.168.0.1']],
  ])('refuses %s resolving to %j', async (hostname, addresses) => {
    const { resolve } = stub({ [hostname]: addresses });
    await expect(checkWebhookUrl(`https://${hostname}/hook`, { resolve })).rejects.toThrow(WebhookBlockedError);
  });

  test('accepts a name resolving to public addresses only', async () => {
    const { resolve } = stub({ 'hooks.example.com': ['93.184.216.34', '2606:2800:220:1::1'] });
    await expect(checkWebhookUrl('https://hooks.example.com/x', { resolve })).resolves.toMatchObject({ hostname: 'hooks.example.com' });
  });

  test('the connect-time lookup hands the socket only checked addresses, in the form net asks for', async () => {
    const { resolve } = stub({ 'hooks.example.com': ['93.184.216.34', '2606:2800:220:1::1'], 'evil.example': ['127.0.0.1'] });
    const lookup = guardedLookup({ resolve });
    const call = (host: string, options: object) => new Promise<{ err: unknown; address: unknown; family: unknown }>((done) => {
      lookup(host, options, (err, address, family) => done({ err, address, family }));
    });
    expect(await call('hooks.example.com', { all: true })).toMatchObject({ err: null, address: [{ address: '93.184.216.34', family: 4 }, { family: 6 }] });
    expect(await call('hooks.example.com', {})).toMatchObject({ err: null, address: '93.184.216.34', family: 4 });
    expect(await call('hooks.example.com', { family: 6 })).toMatchObject({ err: null, address: '2606:2800:220:1::1', family: 6 });
    const refused = await call('evil.example', { all: true });
    expect(refused.err).toBeInstanceOf(WebhookBlockedError);
    expect(String((refused.err as Error).message)).toMatch(/evil\.example resolves to 127\.0\.0\.1/);
  });
});
