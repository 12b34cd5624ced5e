import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import {
  decodeSigningSecret, generateSigningSecret, signStandardWebhook, standardPayload, WebhookSigningError,
} from '../../../functions/shared/outbound-webhook/standard-webhooks-signer';

describe('Standard Webhooks signing, checked by the reference verifier (standardwebhooks npm)', () => {
  const secret = generateSigningSecret();
  const body = standardPayload({ eventType: 'BuildCompleted', occurredAt: '2026-11-29T08:00:00.000Z' }, { jobId: 'j-1', note: 'héllo ✓' });

  test('the reference verifier accepts what we sign, and parses the body back', () => {
    const headers = signStandardWebhook({ id: 'msg_2b8f', body, secrets: [secret] });
    expect(headers['webhook-id']).toBe('msg_2b8f');
    expect(headers['webhook-timestamp']).toMatch(/^\d{10}$/);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual({
      type: 'BuildCompleted', timestamp: '2026-11-29T08:00:00.000Z', data: { jobId: 'j-1', note: 'héllo ✓' },
    });
  });

  test('a tampered body, timestamp or id is rejected', () => {
    const headers = signStandardWebhook({ id: 'msg_1', body, secrets: [secret] });
    const verifier = new Webhook(secret);
    expect(() => verifier.verify(body.replace('j-1', 'j-2'), { ...headers })).toThrow(WebhookVerificationError);
    const shifted = String(Number(headers['webhook-timestamp']) - 1);
    expect(() => verifier.verify(body, { ...headers, 'webhook-timestamp': shifted })).toThrow(/No matching signature/);
    expect(() => verifier.verify(body, { ...headers, 'webhook-id': 'msg_2' })).toThrow(/No matching signature/);
  });

  test('another secret does not verify; an old timestamp is refused by the verifier (replay window)', () => {
    const headers = signStandardWebhook({ id: 'msg_1', body, secrets: [secret] });
    expect(() => new Webhook(generateSigningSecret()).verify(body, { ...headers })).toThrow(/No matching signature/);
    const old = signStandardWebhook({ id: 'msg_1', body, secrets: [secret], at: new Date(Date.now() - 10 * 60_000) });
    expect(() => new Webhook(secret).verify(body, { ...old })).toThrow(/too old/);
  });

  test('rotation: one signature per secret, space-separated; a receiver holding either one verifies', () => {
    const next = generateSigningSecret();
    const headers = signStandardWebhook({ id: 'msg_rot', body, secrets: [next, secret] });
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => new Webhook(next).verify(body, { ...headers })).not.toThrow();
    expect(() => new Webhook(secret).verify(body, { ...headers })).not.toThrow();
  });

  test('signs the same bytes as the reference signer at the same instant', () => {
    const at = new Date('2026-11-29T08:00:00.999Z');
    const headers = signStandardWebhook({ id: 'msg_same', body, secrets: [secret], at });
    expect(headers['webhook-timestamp']).toBe('1795939200');
    expect(headers['webhook-signature']).toBe(new Webhook(secret).sign('msg_same', at, body));
  });

  test.each([
    ['no prefix', 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0'],
    ['not base64', 'whsec_not*base64!'],
    ['too short', `whsec_${Buffer.alloc(8, 1).toString('base64')}`],
    ['too long', `whsec_${Buffer.alloc(65, 1).toString('base64')}`],
  ])('refuses a malformed secret (%s) without echoing it', (_case, bad) => {
    expect(() => decodeSigningSecret(bad)).toThrow(WebhookSigningError);
    try {
      decodeSigningSecret(bad);
    } catch (error) {
      expect((error as Error).message).not.toContain(bad.slice(6));
    }
  });

  test('refuses no secrets and ids that could blur the signed string', () => {
    expect(() => signStandardWebhook({ id: 'msg_1', body, secrets: [] })).toThrow(/No signing secret/);
    for (const id of ['', 'a.b', 'a b', 'x'.repeat(257), 'a\nb']) {
      expect(() => signStandardWebhook({ id, body, secrets: [secret] })).toThrow(WebhookSigningError);
    }
  });

  test('generated secrets are whsec_ + 32 random bytes, and decode', () => {
    const a = generateSigningSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(decodeSigningSecret(a)).toHaveLength(32);
    expect(generateSigningSecret()).not.toBe(a);
    expect(() => generateSigningSecret(16)).toThrow(WebhookSigningError);
  });
});
