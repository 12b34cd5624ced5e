import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { parse, providerBody, refundBody, setupWebhook, signedDelivery, WebhookFixture } from './webhook-fixture';
import { PaymentEvents } from '../../lib/payment-outbox/contract';

/**
 * Partial refunds are facts that add up: the bundled webhook handler against DynamoDB
 * Local applies each one exactly once, in whatever order and concurrency they arrive,
 * never above the payment's amount. Only state transitions obey the provider's ordering.
 */
const SECRET = 'whsec_refunds_0123456789abcdef';

/** Shuffles a copy (Fisher–Yates). */
function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

describe('partial refunds', () => {
  let f: WebhookFixture;
  beforeAll(async () => { f = await setupWebhook('refunds', SECRET); });
  afterAll(() => f.stop());

  /** Delivers like the provider does: a 409 is retried (after a short pause), any other answer is final. */
  async function deliverAsProvider(event: APIGatewayProxyEvent, stats: { conflicts: number }): Promise<APIGatewayProxyResult> {
    for (let attempt = 1; attempt <= 20; attempt++) {
      const res = await f.call(event);
      if (res.statusCode !== 409) return res;
      stats.conflicts++;
      await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
    }
    throw new Error('still 409 after 20 deliveries');
  }

  const outboxOf = async (paymentId: string) => (await f.itemsOf(paymentId)).filter((i) => i.recordType === 'OUTBOX');
  const stateOf = async (paymentId: string) => (await f.itemsOf(paymentId)).find((i) => i.recordType === 'PAYMENT');

  test('50 partial refunds, concurrent, in shuffled time order, 10 of them delivered twice: each applied once, the total exact, fully refunded once', async () => {
    const paymentId = `pay_${randomUUID()}`;
    // 1 + 2 + … + 50 = 1,275: the 50 refunds together refund the payment exactly.
    const amount = 1_275;
    const succeededAt = Date.now() - 3_600_000;
    const ok = await f.call(signedDelivery({ body: providerBody('payment.succeeded', paymentId, { amount, created: new Date(succeededAt).toISOString() }), secret: SECRET }));
    expect(parse(ok)).toMatchObject({ outcome: 'applied', status: 'succeeded' });

    // provider times spread over the hour after the success, assigned at random: arrival order ≠ time order
    const times = shuffled(Array.from({ length: 50 }, (_, i) => new Date(succeededAt + (i + 1) * 60_000).toISOString()));
    const refunds = Array.from({ length: 50 }, (_, i) => refundBody(paymentId, i + 1, { created: times[i] }));
    const deliveries = refunds.map((body) => signedDelivery({ body, secret: SECRET }));
    const stats = { conflicts: 0 };
    const answers = await Promise.all(shuffled([...deliveries, ...deliveries.slice(0, 10)]).map((d) => deliverAsProvider(d, stats)));

    expect(answers.map((a) => a.statusCode)).toEqual(Array(60).fill(200));
    const byEvent = new Map<string, Set<string>>();
    for (const a of answers) {
      const body = parse(a);
      expect(body).toMatchObject({ outcome: 'applied', status: expect.stringMatching(/^(partially_refunded|refunded)$/), outboxEventId: expect.any(String) });
      byEvent.set(body.providerEventId, (byEvent.get(body.providerEventId) ?? new Set()).add(a.body));
    }
    expect(byEvent.size).toBe(50);
    expect([...byEvent.values()].every((bodies) => bodies.size === 1)).toBe(true); // a duplicate got the first answer

    expect(await stateOf(paymentId)).toMatchObject({ status: 'refunded', amount, refundedAmount: 1_275 });
    const refundEvents = (await outboxOf(paymentId)).map((o) => o.envelope).filter((e) => e.eventType === PaymentEvents.REFUNDED);
    expect(refundEvents).toHaveLength(50);
    expect(new Set(refundEvents.map((e) => e.payload.providerEventId))).toEqual(new Set(refunds.map((r) => r.id)));
    expect(refundEvents.reduce((sum, e) => sum + e.payload.refundAmount, 0)).toBe(1_275);
    // every event states the running total; together they are 1,275 minus a different prefix each
    expect(new Set(refundEvents.map((e) => e.payload.refundedAmount)).size).toBe(50);
    expect(refundEvents.filter((e) => e.payload.status === 'refunded')).toEqual([
      expect.objectContaining({ payload: expect.objectContaining({ refundedAmount: 1_275 }) }),
    ]);
    // measured, for the report: how often the provider had to retry a contended refund
    console.info(`50 concurrent refunds + 10 duplicates: ${stats.conflicts} deliveries answered 409 and retried`);
  }, 60_000);

  test('a refund above what is left is refused with a clear outcome, recorded, and changes nothing', async () => {
    const paymentId = `pay_${randomUUID()}`;
    await f.call(signedDelivery({ body: providerBody('payment.succeeded', paymentId, { amount: 1_000 }), secret: SECRET }));
    await f.call(signedDelivery({ body: refundBody(paymentId, 700), secret: SECRET }));
    const tooMuch = refundBody(paymentId, 301);
    const res = await f.call(signedDelivery({ body: tooMuch, secret: SECRET }));
    expect(res.statusCode).toBe(200);
    expect(parse(res)).toEqual({
      received: true,
      providerEventId: tooMuch.id,
      paymentId,
      outcome: 'refused',
      reason: 'refund-exceeds-amount',
      message: expect.stringMatching(/301 .*1001.* above the payment amount of 1000 EUR/),
    });
    expect(await stateOf(paymentId)).toMatchObject({ status: 'partially_refunded', refundedAmount: 700 });
    const ledger = (await f.itemsOf(paymentId)).find((i) => i.SK === `PROVIDER_EVENT#${tooMuch.id}`);
    expect(ledger?.response).toMatchObject({ outcome: 'refused', reason: 'refund-exceeds-amount' });
    expect((await outboxOf(paymentId)).map((o) => o.envelope.eventType).sort()).toEqual([PaymentEvents.REFUNDED, PaymentEvents.SUCCEEDED]);
    // the rest still fits
    const rest = await f.call(signedDelivery({ body: refundBody(paymentId, 300), secret: SECRET }));
    expect(parse(rest)).toMatchObject({ outcome: 'applied', status: 'refunded' });
  });

  test('a refund that arrives before the payment succeeded is answered 409, writes nothing, and applies when the provider retries after the success', async () => {
    const paymentId = `pay_${randomUUID()}`;
    const refund = signedDelivery({ body: refundBody(paymentId, 500), secret: SECRET });
    const early = await f.call(refund);
    expect(early.statusCode).toBe(409);
    expect(parse(early).error).toEqual({
      code: 'PAYMENT_NOT_SUCCEEDED_YET',
      message: expect.stringMatching(/before .*success.*retry/i),
      correlationId: expect.any(String),
    });
    expect(await f.itemsOf(paymentId)).toEqual([]);

    await f.call(signedDelivery({ body: providerBody('payment.pending', paymentId), secret: SECRET }));
    expect((await f.call(refund)).statusCode).toBe(409); // pending is not yet paid either

    await f.call(signedDelivery({ body: providerBody('payment.succeeded', paymentId), secret: SECRET }));
    const retried = await f.call(refund);
    expect(retried.statusCode).toBe(200);
    expect(parse(retried)).toMatchObject({ outcome: 'applied', status: 'partially_refunded' });
    expect(await stateOf(paymentId)).toMatchObject({ refundedAmount: 500 });
  });

  test('a refund of a failed payment is refused, not held forever', async () => {
    const paymentId = `pay_${randomUUID()}`;
    await f.call(signedDelivery({ body: providerBody('payment.failed', paymentId), secret: SECRET }));
    const res = await f.call(signedDelivery({ body: refundBody(paymentId, 100), secret: SECRET }));
    expect(res.statusCode).toBe(200);
    expect(parse(res)).toMatchObject({ outcome: 'refused', reason: 'payment-not-refundable', message: expect.stringMatching(/failed/) });
    expect(await stateOf(paymentId)).toMatchObject({ status: 'failed', refundedAmount: 0 });
  });

  test('refunds do not move the transition clock: a late, older refund still applies, an older pending is still out of order', async () => {
    const paymentId = `pay_${randomUUID()}`;
    const base = Date.now() - 3_600_000;
    const t = (minutes: number) => new Date(base + minutes * 60_000).toISOString();
    await f.call(signedDelivery({ body: providerBody('payment.succeeded', paymentId, { created: t(10) }), secret: SECRET }));
    await f.call(signedDelivery({ body: refundBody(paymentId, 100, { created: t(30) }), secret: SECRET }));
    const older = await f.call(signedDelivery({ body: refundBody(paymentId, 200, { created: t(20) }), secret: SECRET }));
    expect(parse(older)).toMatchObject({ outcome: 'applied' });
    const pending = await f.call(signedDelivery({ body: providerBody('payment.pending', paymentId, { created: t(5) }), secret: SECRET }));
    expect(parse(pending)).toMatchObject({ outcome: 'ignored', reason: 'out-of-order' });
    expect(await stateOf(paymentId)).toMatchObject({ status: 'partially_refunded', refundedAmount: 300, lastProviderEventAt: t(10) });
  });
});
