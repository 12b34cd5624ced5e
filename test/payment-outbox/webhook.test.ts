import { randomUUID } from 'node:crypto';
import { parse, providerBody, setupWebhook, signedDelivery, WebhookFixture } from './webhook-fixture';
import { PaymentEvents } from '../../lib/payment-outbox/contract';

/**
 * The bundled webhook handler against DynamoDB Local and a local Secrets Manager endpoint:
 * signature first, then validation, then one transaction; every rejection writes nothing.
 */
const SECRET = 'whsec_current_0123456789abcdef';
const NEW_SECRET = 'whsec_rotated_fedcba9876543210';

describe('payment webhook', () => {
  let f: WebhookFixture;
  beforeAll(async () => { f = await setupWebhook('webhook', SECRET); });
  afterAll(() => f.stop());

  test('a signed payment.succeeded is answered 200 and writes state, ledger and outbox', async () => {
    const paymentId = `pay_${randomUUID()}`;
    const body = providerBody('payment.succeeded', paymentId, { metadata: { studentId: 'stu_1', courseId: 'crs_1' } });
    const res = await f.call(signedDelivery({ body, secret: SECRET, headers: { 'x-correlation-id': 'corr-webhook-1' } }));
    expect(res.statusCode).toBe(200);
    expect(res.headers?.['x-correlation-id']).toBe('corr-webhook-1');
    const answer = parse(res);
    expect(answer).toEqual({ received: true, providerEventId: body.id, paymentId, outcome: 'applied', status: 'succeeded', outboxEventId: expect.any(String) });
    const items = await f.itemsOf(paymentId);
    expect(items.map((i) => i.recordType).sort()).toEqual(['OUTBOX', 'PAYMENT', 'PROVIDER_EVENT']);
    const outbox = items.find((i) => i.recordType === 'OUTBOX')!;
    expect(outbox.envelope).toMatchObject({
      eventId: answer.outboxEventId,
      eventType: PaymentEvents.SUCCEEDED,
      correlationId: paymentId,
      payload: { paymentId, status: 'succeeded', amount: 4_200, currency: 'EUR', metadata: { studentId: 'stu_1', courseId: 'crs_1' } },
    });
  });

  test('a base64-encoded body is verified over its decoded bytes', async () => {
    const paymentId = `pay_${randomUUID()}`;
    const res = await f.call(signedDelivery({ body: providerBody('payment.pending', paymentId), secret: SECRET, base64: true }));
    expect(res.statusCode).toBe(200);
    expect(parse(res)).toMatchObject({ outcome: 'applied', status: 'pending' });
  });

  describe('signature checks: 401, problem body, nothing written', () => {
    const now = Math.floor(Date.now() / 1000);
    const cases: Array<[string, (body: object) => Parameters<typeof signedDelivery>[0], RegExp]> = [
      ['wrong secret', (body) => ({ body, secret: 'whsec_attacker' }), /does not match/],
      ['tampered body', (body) => ({ body, secret: SECRET, sentBody: JSON.stringify({ ...body, data: { ...(body as any).data, amount: 1 } }) }), /does not match/],
      ['stale timestamp (6 minutes old)', (body) => ({ body, secret: SECRET, timestamp: now - 360 }), /outside the 300 s tolerance/],
      ['timestamp from the future', (body) => ({ body, secret: SECRET, timestamp: now + 360 }), /outside the 300 s tolerance/],
      ['missing signature header', (body) => ({ body, secret: SECRET, headers: { 'X-Payment-Signature': undefined } }), /Missing x-payment-signature/],
      ['missing timestamp header', (body) => ({ body, secret: SECRET, headers: { 'X-Payment-Timestamp': undefined } }), /x-payment-timestamp/],
      ['malformed signature', (body) => ({ body, secret: SECRET, headers: { 'X-Payment-Signature': 'sha256=abc' } }), /expected v1=/],
    ];
    test.each(cases)('%s', async (_name, delivery, message) => {
      const paymentId = `pay_${randomUUID()}`;
      const res = await f.call(signedDelivery(delivery(providerBody('payment.succeeded', paymentId))));
      expect(res.statusCode).toBe(401);
      const problem = parse(res).error;
      expect(problem).toEqual({ code: 'UNAUTHORIZED', message: expect.stringMatching(message), correlationId: expect.any(String) });
      expect(res.body).not.toMatch(/at .*\.js/); // no stack trace
      expect(await f.itemsOf(paymentId)).toEqual([]);
    });
  });

  describe('malformed payloads with a valid signature: 4xx naming the problem, nothing written', () => {
    const valid = (paymentId: string) => providerBody('payment.succeeded', paymentId);
    const cases: Array<[string, (paymentId: string) => unknown, number, RegExp]> = [
      ['not JSON', () => '{"id": "evt_1", ', 400, /not valid JSON/],
      ['empty body', () => '', 400, /body is required/],
      ['unknown event type', (p) => ({ ...valid(p), type: 'payment.captured' }), 400, /type/],
      ['amount missing', (p) => ({ ...valid(p), data: { paymentId: p, currency: 'EUR' } }), 400, /data\.amount/],
      ['negative amount', (p) => ({ ...valid(p), data: { ...valid(p).data, amount: -5 } }), 400, /data\.amount/],
      ['fractional amount (minor units are integers)', (p) => ({ ...valid(p), data: { ...valid(p).data, amount: 10.5 } }), 400, /data\.amount/],
      ['lower-case currency', (p) => ({ ...valid(p), data: { ...valid(p).data, currency: 'eur' } }), 400, /data\.currency/],
      ['created not a date-time', (p) => ({ ...valid(p), created: 'yesterday' }), 400, /created/],
      ['event id with key separators', (p) => ({ ...valid(p), id: 'evt#1' }), 400, /'id'/],
      ['payment id too long', () => ({ ...valid('x'), data: { ...valid('x').data, paymentId: 'p'.repeat(129) } }), 400, /data\.paymentId/],
      ['21 metadata keys', (p) => ({ ...valid(p), data: { ...valid(p).data, metadata: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v'])) } }), 400, /metadata/],
      ['body over 16 KB', (p) => ({ ...valid(p), padding: 'x'.repeat(17_000) }), 413, /exceeds/],
      ['a JSON array', () => [], 400, /Invalid body/],
    ];
    test.each(cases)('%s', async (_name, body, status, message) => {
      const paymentId = `pay_${randomUUID()}`;
      const res = await f.call(signedDelivery({ body: body(paymentId), secret: SECRET }));
      expect(res.statusCode).toBe(status);
      expect(parse(res).error).toEqual({ code: expect.any(String), message: expect.stringMatching(message), correlationId: expect.any(String) });
      expect(await f.itemsOf(paymentId)).toEqual([]);
    });
  });

  test('the same webhook delivered 50 times concurrently: one state change, one outbox record, 50 identical answers', async () => {
    const paymentId = `pay_${randomUUID()}`;
    await f.call(signedDelivery({ body: providerBody('payment.pending', paymentId), secret: SECRET }));
    const delivery = signedDelivery({ body: providerBody('payment.succeeded', paymentId), secret: SECRET });
    const answers = await Promise.all(Array.from({ length: 50 }, () => f.call(delivery)));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(50).fill(200));
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
    const items = await f.itemsOf(paymentId);
    expect(items.filter((i) => i.recordType === 'OUTBOX')).toHaveLength(1);
    expect(items.find((i) => i.recordType === 'PAYMENT')).toMatchObject({ status: 'succeeded' });
  }, 30_000);

  test('out of order: succeeded, then the older pending → 200 ignored, state stays succeeded', async () => {
    const paymentId = `pay_${randomUUID()}`;
    const pending = providerBody('payment.pending', paymentId, { created: new Date(Date.now() - 60_000).toISOString() });
    await f.call(signedDelivery({ body: providerBody('payment.succeeded', paymentId), secret: SECRET }));
    const late = await f.call(signedDelivery({ body: pending, secret: SECRET }));
    expect(late.statusCode).toBe(200);
    expect(parse(late)).toMatchObject({ outcome: 'ignored', reason: 'out-of-order' });
    const items = await f.itemsOf(paymentId);
    expect(items.find((i) => i.recordType === 'PAYMENT')).toMatchObject({ status: 'succeeded' });
    expect(items.filter((i) => i.recordType === 'OUTBOX')).toHaveLength(1);
  });

  test('a redelivery gets the first answer and writes nothing', async () => {
    const paymentId = `pay_${randomUUID()}`;
    const delivery = signedDelivery({ body: providerBody('payment.failed', paymentId), secret: SECRET });
    const first = await f.call(delivery);
    const before = await f.itemsOf(paymentId);
    const again = await f.call(delivery);
    expect(again.statusCode).toBe(200);
    expect(again.body).toBe(first.body);
    expect(await f.itemsOf(paymentId)).toEqual(before);
  });

  test('methods other than POST are refused', async () => {
    const res = await f.call({ ...signedDelivery({ body: {}, secret: SECRET }), httpMethod: 'GET' });
    expect(res.statusCode).toBe(405);
  });
});

describe('payment webhook signing-secret rotation', () => {
  // A fixture of its own: a fresh container, whose rate-limited refetch no other test used.
  let f: WebhookFixture;
  beforeAll(async () => { f = await setupWebhook('rotation', SECRET); });
  afterAll(() => f.stop());

  test('the new secret works at once, the old keeps working while listed, bad signatures cannot flood Secrets Manager', async () => {
    const paymentId = `pay_${randomUUID()}`;
    await f.call(signedDelivery({ body: providerBody('payment.pending', paymentId), secret: SECRET })); // warms the cache
    f.secrets.put(f.secretName, JSON.stringify({ current: NEW_SECRET, previous: SECRET }));
    const readsBefore = f.secrets.reads();
    const signedNew = await f.call(signedDelivery({ body: providerBody('payment.succeeded', paymentId), secret: NEW_SECRET }));
    expect(signedNew.statusCode).toBe(200); // matched no cached secret → one fresh read → accepted
    expect(f.secrets.reads()).toBe(readsBefore + 1);
    const signedOld = await f.call(signedDelivery({ body: providerBody('payment.pending', `pay_${randomUUID()}`), secret: SECRET }));
    expect(signedOld.statusCode).toBe(200);

    const forged = await Promise.all(Array.from({ length: 20 }, () =>
      f.call(signedDelivery({ body: providerBody('payment.succeeded', `pay_${randomUUID()}`), secret: 'whsec_forged' }))));
    expect(forged.every((r) => r.statusCode === 401)).toBe(true);
    expect(f.secrets.reads()).toBe(readsBefore + 1); // refetch is rate-limited: no read per forged request
  });
});
