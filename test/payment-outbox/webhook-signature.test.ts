import { verifyWebhookSignature } from '../../functions/payment-outbox/webhook-signature';
import { UnauthorizedError } from '../../functions/shared/errors';
import { signatureHeader, signPayload } from '../../functions/shared/hmac';

const NOW = new Date('2026-11-24T12:00:00Z');
const TS = String(NOW.getTime() / 1000);
const BODY = '{"id":"evt_1","type":"payment.succeeded","data":{"paymentId":"p1","amount":1000}}';
const OLD_SECRET = 'whsec_old_0123456789';
const NEW_SECRET = 'whsec_new_9876543210';

function check(overrides: Partial<Parameters<typeof verifyWebhookSignature>[0]> = {}) {
  return {
    rawBody: BODY,
    timestamp: TS,
    signature: `v1=${signPayload(OLD_SECRET, TS, BODY)}`,
    secrets: [OLD_SECRET],
    now: NOW,
    toleranceSeconds: 300,
    ...overrides,
  };
}

function rejection(overrides: Partial<Parameters<typeof verifyWebhookSignature>[0]>): UnauthorizedError {
  try {
    verifyWebhookSignature(check(overrides));
  } catch (error) {
    expect(error).toBeInstanceOf(UnauthorizedError);
    expect((error as UnauthorizedError).statusCode).toBe(401);
    return error as UnauthorizedError;
  }
  throw new Error('expected the signature to be rejected');
}

describe('webhook signature', () => {
  test('a correctly signed body passes', () => {
    expect(() => verifyWebhookSignature(check())).not.toThrow();
  });

  test('wrong secret is 401', () => {
    expect(rejection({ secrets: ['whsec_attacker'] }).message).toMatch(/does not match/);
  });

  test('a tampered body is 401', () => {
    expect(rejection({ rawBody: BODY.replace('1000', '1') }).message).toMatch(/does not match/);
  });

  test('re-serialised JSON (same data, other bytes) is 401: the signature covers the raw body', () => {
    expect(rejection({ rawBody: JSON.stringify(JSON.parse(BODY), null, 1) }).message).toMatch(/does not match/);
  });

  test('a stale or future timestamp is 401, even when signed correctly', () => {
    const stale = String(Number(TS) - 301);
    expect(rejection({ timestamp: stale, signature: `v1=${signPayload(OLD_SECRET, stale, BODY)}` }).message).toMatch(/tolerance/);
    const future = String(Number(TS) + 301);
    expect(rejection({ timestamp: future, signature: `v1=${signPayload(OLD_SECRET, future, BODY)}` }).message).toMatch(/tolerance/);
  });

  test('the signature binds the timestamp: a new timestamp on an old signature is 401', () => {
    const later = String(Number(TS) + 10);
    expect(rejection({ timestamp: later }).message).toMatch(/does not match/);
  });

  test('missing or malformed headers are 401 with a message naming the header', () => {
    expect(rejection({ signature: undefined }).message).toMatch(/x-payment-signature/);
    expect(rejection({ timestamp: undefined }).message).toMatch(/x-payment-timestamp/);
    expect(rejection({ timestamp: '12:00' }).message).toMatch(/x-payment-timestamp/);
    expect(rejection({ signature: 'sha256=abc' }).message).toMatch(/Malformed/);
    expect(rejection({ signature: 'v1=zz' }).message).toMatch(/Malformed/);
  });

  test('during rotation a body signed with either active secret passes', () => {
    const secrets = [NEW_SECRET, OLD_SECRET];
    expect(() => verifyWebhookSignature(check({ secrets }))).not.toThrow();
    expect(() => verifyWebhookSignature(check({ secrets, signature: `v1=${signPayload(NEW_SECRET, TS, BODY)}` }))).not.toThrow();
    // the provider may send both signatures in one header
    const both = `v1=${signPayload('whsec_unknown', TS, BODY)}, v1=${signPayload(NEW_SECRET, TS, BODY)}`;
    expect(() => verifyWebhookSignature(check({ secrets: [NEW_SECRET], signature: both }))).not.toThrow();
  });

  test('after rotation the retired secret no longer passes', () => {
    expect(rejection({ secrets: [NEW_SECRET] }).message).toMatch(/does not match/);
  });

  test('no configured secret is a server fault, not a pass', () => {
    expect(() => verifyWebhookSignature(check({ secrets: [] }))).toThrow(/No signing secret/);
  });

  test('the kit\'s outbound signatureHeader (one v1= per active secret) passes the verifier with either secret', () => {
    const header = signatureHeader([NEW_SECRET, OLD_SECRET], TS, BODY);
    expect(header.split(', ')).toHaveLength(2);
    expect(() => verifyWebhookSignature(check({ signature: header, secrets: [NEW_SECRET] }))).not.toThrow();
    expect(() => verifyWebhookSignature(check({ signature: header, secrets: [OLD_SECRET] }))).not.toThrow();
    expect(rejection({ signature: signatureHeader([NEW_SECRET], TS, BODY), secrets: [OLD_SECRET] }).message).toMatch(/does not match/);
  });
});
