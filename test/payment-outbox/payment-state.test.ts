import { decide, PaymentState, ProviderEvent } from '../../functions/payment-outbox/payment-state';
import { PaymentEvents } from '../../lib/payment-outbox/contract';

let seq = 0;
const at = (minute: number) => `2026-11-24T12:${String(minute).padStart(2, '0')}:00.000Z`;
const outcome = (kind: 'pending' | 'succeeded' | 'failed', minute: number): ProviderEvent =>
  ({ kind, eventId: `evt_${++seq}`, occurredAt: at(minute), paymentId: 'pay_1', amount: 10_000, currency: 'EUR' });
const refund = (refundAmount: number, minute: number): ProviderEvent =>
  ({ kind: 'refunded', eventId: `evt_${++seq}`, occurredAt: at(minute), paymentId: 'pay_1', refundAmount });

/** Applies events in order, returning the final state and every decision. */
function run(...events: ProviderEvent[]) {
  let state: PaymentState | undefined;
  const decisions = events.map((e) => {
    const d = decide(state, e);
    if (d.decision === 'apply') state = d.next;
    return d;
  });
  return { state, decisions };
}

describe('payment state machine', () => {
  test('pending → succeeded emits PaymentSucceeded once; pending emits nothing', () => {
    const { state, decisions } = run(outcome('pending', 1), outcome('succeeded', 2));
    expect(state).toMatchObject({ status: 'succeeded', amount: 10_000, refundedAmount: 0 });
    expect(decisions.map((d) => d.decision === 'apply' && d.eventType)).toEqual([undefined, PaymentEvents.SUCCEEDED]);
  });

  test('pending → failed emits PaymentFailed', () => {
    const { state, decisions } = run(outcome('pending', 1), outcome('failed', 2));
    expect(state?.status).toBe('failed');
    expect(decisions[1]).toMatchObject({ decision: 'apply', eventType: PaymentEvents.FAILED });
  });

  test('succeeded arriving before the older pending: state stays succeeded', () => {
    const pending = outcome('pending', 1);
    const { state, decisions } = run(outcome('succeeded', 2), pending);
    expect(state?.status).toBe('succeeded');
    expect(decisions[1]).toEqual({ decision: 'ignore', reason: 'out-of-order' });
  });

  test('a redelivered event is a duplicate and changes nothing', () => {
    const succeeded = outcome('succeeded', 2);
    const { state, decisions } = run(outcome('pending', 1), succeeded, succeeded);
    expect(decisions[2]).toEqual({ decision: 'ignore', reason: 'duplicate' });
    expect(state?.lastProviderEventId).toBe(succeeded.eventId);
  });

  test('transitions the machine does not allow are ignored', () => {
    expect(run(outcome('failed', 1), outcome('succeeded', 2)).decisions[1]).toEqual({ decision: 'ignore', reason: 'transition-not-allowed' });
    expect(run(outcome('succeeded', 1), outcome('failed', 2)).decisions[1]).toEqual({ decision: 'ignore', reason: 'transition-not-allowed' });
    expect(run(outcome('succeeded', 1), refund(100, 2), outcome('pending', 3)).decisions[2]).toEqual({ decision: 'ignore', reason: 'transition-not-allowed' });
  });

  test('a refund before the payment succeeded asks for a retry (409): it may apply once the success arrives', () => {
    expect(run(refund(100, 1)).decisions[0]).toMatchObject({ decision: 'retry', reason: 'payment-not-succeeded-yet' });
    expect(run(outcome('pending', 1), refund(100, 2)).decisions[1]).toMatchObject({ decision: 'retry', reason: 'payment-not-succeeded-yet' });
  });

  test('a refund of a failed payment is refused, naming why', () => {
    expect(run(outcome('failed', 1), refund(100, 2)).decisions[1]).toEqual({
      decision: 'refuse', reason: 'payment-not-refundable', message: expect.stringMatching(/pay_1 failed/),
    });
  });

  test('partial refunds add up to the amount, never above it; the payment is refunded when they reach it', () => {
    const { state, decisions } = run(outcome('succeeded', 1), refund(3_000, 2), refund(7_000, 3), refund(1, 4));
    expect(decisions.slice(1, 3).every((d) => d.decision === 'apply' && d.eventType === PaymentEvents.REFUNDED)).toBe(true);
    expect(decisions.slice(1, 3).map((d) => d.decision === 'apply' && d.next.status)).toEqual(['partially_refunded', 'refunded']);
    expect(decisions[3]).toEqual({ decision: 'refuse', reason: 'refund-exceeds-amount', message: expect.stringMatching(/from 10000 to 10001, above the payment amount of 10000 EUR/) });
    expect(state).toMatchObject({ status: 'refunded', refundedAmount: 10_000, amount: 10_000 });
  });

  test('a single refund above the amount is refused and the payment stays succeeded', () => {
    const { state, decisions } = run(outcome('succeeded', 1), refund(10_001, 2));
    expect(decisions[1]).toMatchObject({ decision: 'refuse', reason: 'refund-exceeds-amount' });
    expect(state).toMatchObject({ status: 'succeeded', refundedAmount: 0 });
  });

  test('refunds apply whatever their provider time, and do not move the transition clock', () => {
    const succeeded = outcome('succeeded', 10);
    const { state, decisions } = run(succeeded, refund(100, 30), refund(200, 20), refund(300, 5), outcome('pending', 8));
    expect(decisions.slice(1, 4).map((d) => d.decision)).toEqual(['apply', 'apply', 'apply']);
    expect(decisions[4]).toEqual({ decision: 'ignore', reason: 'out-of-order' });
    expect(state).toMatchObject({ status: 'partially_refunded', refundedAmount: 600, lastProviderEventId: succeeded.eventId, lastProviderEventAt: at(10) });
  });

  test('in any order, the same refunds reach the same total, and exactly one of them completes the refund', () => {
    const refunds = [1_000, 2_000, 3_000, 4_000].map((amount, i) => refund(amount, 10 + i));
    for (const order of [[0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1]]) {
      const { state, decisions } = run(outcome('succeeded', 1), ...order.map((i) => refunds[i]));
      expect(state).toMatchObject({ status: 'refunded', refundedAmount: 10_000 });
      expect(decisions.filter((d) => d.decision === 'apply' && d.next.status === 'refunded')).toHaveLength(1);
    }
  });
});
