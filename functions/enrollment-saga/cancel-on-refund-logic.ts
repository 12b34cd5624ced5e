import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { cancelPurchase, releaseSeat, type SagaKeys } from './compensate-logic';
import { EnrollmentEvents, sagaFact } from './enrollment-events';
import { allocationId, purchaseId, purchaseKey, refundKey } from './enrollment-items';
import { announceOnce, type FactPublisher } from './fact-publisher';
import type { TableServices } from './saga-types';
import { FailureReasons } from '../../lib/enrollment-saga/contract';
import { isConditionFailure } from '../shared/dynamodb-conditions';
import { envelopeSchema } from '../shared/envelope';

const id = z.string().check(z.regex(/^[A-Za-z0-9_-]{1,128}$/));
const amount = z.int().check(z.gte(0));
const enrollmentKeys = { studentId: z.optional(id), courseId: z.optional(id) };

/**
 * The `detail` of a PaymentRefunded event (PaymentOutbox's envelope): the payment as it
 * now stands, with the total refunded so far.
 */
export const refundDetailSchema = envelopeSchema(z.looseObject({
  paymentId: id,
  amount,
  refundedAmount: amount,
  ...enrollmentKeys,
  metadata: z.optional(z.looseObject(enrollmentKeys)),
}));
export type RefundDetail = z.infer<typeof refundDetailSchema>;

export type RefundOutcome =
  /** Less than the whole amount refunded: the enrollment stays. */
  | 'partial-refund'
  /** No enrollment of this payment, and the refund names no student and course: nothing to do. */
  | 'unknown-payment'
  /** Recorded; its saga has not created the purchase yet and will fail with PAYMENT_REFUNDED. */
  | 'refunded-before-saga'
  /** Recorded; its saga is running and will not complete (compensation, EnrollmentFailed PAYMENT_REFUNDED). */
  | 'refunded-during-saga'
  /** The saga had failed already: nothing was enrolled. */
  | 'enrollment-already-failed'
  /** The completed enrollment is cancelled (EnrollmentCancelled). */
  | 'cancelled';

/**
 * A fully refunded payment takes its enrollment back. The refund is recorded first (once,
 * `SAGA#<paymentId> / REFUND`), then the purchase is read: the saga's create and complete
 * steps check that record in their own transactions, so whichever comes second sees the
 * other. A completed enrollment is cancelled here: seat freed, its sessions still to come
 * cancelled, the purchase CANCELLED (reason PAYMENT_REFUNDED), `EnrollmentCancelled` put
 * on the bus once. An enrollment not completed yet is left to its saga, which refuses to
 * complete and compensates (`EnrollmentFailed` with reason PAYMENT_REFUNDED). Partial
 * refunds change nothing. Safe to run any number of times.
 */
export async function cancelOnRefund(
  services: TableServices, publisher: FactPublisher, refund: RefundDetail,
): Promise<{ outcome: RefundOutcome; cancelledEventId?: string }> {
  const { paymentId, amount: paid, refundedAmount } = refund.payload;
  if (refundedAmount < paid) return { outcome: 'partial-refund' };
  const sagaId = paymentId;
  const read = async (key: Record<string, string>) =>
    (await services.db.send(new GetCommand({ TableName: services.tableName, Key: key, ConsistentRead: true }))).Item;

  const studentId = refund.payload.studentId ?? refund.payload.metadata?.studentId;
  const courseId = refund.payload.courseId ?? refund.payload.metadata?.courseId;
  if (!(await read(purchaseKey(purchaseId(sagaId)))) && !(studentId && courseId)) return { outcome: 'unknown-payment' };

  const marker = { ...refundKey(sagaId), recordType: 'REFUND', paymentId, refundEventId: refund.eventId, refundedAt: services.now().toISOString() };
  try {
    await services.db.send(new PutCommand({ TableName: services.tableName, Item: marker, ConditionExpression: 'attribute_not_exists(PK)' }));
  } catch (error) {
    if (!isConditionFailure(error)) throw error; // recorded before (a redelivery, or another refund event): keep the first
  }
  const refundRecord = (await read(refundKey(sagaId)))!;

  const purchase = await read(purchaseKey(purchaseId(sagaId)));
  if (!purchase) return { outcome: 'refunded-before-saga' };
  if (!purchase.completedAt) return { outcome: purchase.status === 'CANCELLED' ? 'enrollment-already-failed' : 'refunded-during-saga' };
  if (purchase.status !== 'ACTIVE' && purchase.cancelReason !== FailureReasons.PAYMENT_REFUNDED) return { outcome: 'enrollment-already-failed' };

  // Completed: undo it (each undo conditional, so a second run finds it done), then announce once.
  const keys: SagaKeys = { sagaId, studentId: purchase.studentId, courseId: purchase.courseId };
  await releaseSeat(services, keys, services.now());
  await cancelPurchase(services, keys, FailureReasons.PAYMENT_REFUNDED);
  const event = sagaFact(sagaId, EnrollmentEvents.ENROLLMENT_CANCELLED, refundRecord.refundedAt, {
    reason: FailureReasons.PAYMENT_REFUNDED,
    studentId: keys.studentId,
    courseId: keys.courseId,
    paymentId,
    purchaseId: purchaseId(sagaId),
    allocationId: allocationId(sagaId),
    refundEventId: refundRecord.refundEventId,
  });
  await announceOnce(services, publisher, refundKey(sagaId), event);
  return { outcome: 'cancelled', cancelledEventId: event.eventId };
}
