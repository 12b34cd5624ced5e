import { parseSigningSecrets, SigningSecretCache } from '../../functions/payment-outbox/signing-secrets';

describe('signing secrets', () => {
  test('JSON { current, previous } lists both, current first; a plain string is one secret', () => {
    expect(parseSigningSecrets('{"current":"new","previous":"old"}')).toEqual(['new', 'old']);
    expect(parseSigningSecrets('{"current":"only"}')).toEqual(['only']);
    expect(parseSigningSecrets('whsec_plain')).toEqual(['whsec_plain']);
  });

  test('a secret without a current value is a configuration error, not an open door', () => {
    expect(() => parseSigningSecrets('{"previous":"old"}')).toThrow(/"current"/);
    expect(() => parseSigningSecrets('{"current":""}')).toThrow(/"current"/);
    expect(() => parseSigningSecrets('')).toThrow(/empty/);
    expect(() => parseSigningSecrets(undefined)).toThrow(/empty/);
  });

  test('forced refetches are rate-limited; cached reads are not forced', async () => {
    let clock = 0;
    const forced: boolean[] = [];
    const cache = new SigningSecretCache({
      fetch: async (force) => { forced.push(force); return '{"current":"s"}'; },
      minRefetchIntervalMs: 30_000,
      now: () => clock,
    });
    expect(await cache.get()).toEqual(['s']);
    expect(await cache.refetch()).toEqual(['s']);
    clock = 29_999;
    expect(await cache.refetch()).toBeUndefined();
    clock = 30_000;
    expect(await cache.refetch()).toEqual(['s']);
    expect(forced).toEqual([false, true, true]);
  });
});
