import { randomUUID } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { enrollmentTable, paymentRefunded, PRICE, sagaInput } from './enrollment-fixture';
import { allocateTrainer } from '../../functions/enrollment-saga/allocate-trainer-logic';
import { compensate } from '../../functions/enrollment-saga/compensate-logic';
import { compensateStopped, type StoppedExecution } from '../../functions/enrollment-saga/compensate-stopped-logic';
import { completeEnrollment } from '../../functions/enrollment-saga/complete-enrollment-logic';
import { createPurchase } from '../../functions/enrollment-saga/create-purchase-logic';
import { EnrollmentEvents } from '../../functions/enrollment-saga/enrollment-events';
import type { FactPublisher } from '../../functions/enrollment-saga/fact-publisher';
import type { SagaInput } from '../../functions/enrollment-saga/saga-types';
import { scheduleSessions } from '../../functions/enrollment-saga/schedule-sessions-logic';
import type { EventEnvelope } from '../../functions/shared/envelope';
import { EnrollmentSagaEnv as E } from '../../lib/enrollment-saga/contract';
import { bundleHandler, loadHandler } from '../harness/bundle-handler';
import { configureHandlerEnv, createIdempotencyTable, createQueue, fakeContext, localClients, receiveAtLeast, sqsRecord, uniqueName } from '../harness/local-aws';
import { LocalEventBridge, startLocalEventBridge } from '../harness/local-eventbridge';

const MACHINE = 'arn:aws:states:us-east-1:000000000000:stateMachine:EnrollmentSaga';

/** A "Step Functions Execution Status Change" event as the rule delivers it to SQS. */
function statusChange(input: SagaInput, status: 'TIMED_OUT' | 'ABORTED' | 'FAILED' | 'SUCCEEDED', stateMachineArn = MACHINE): StoppedExecution {
  return {
    'id': randomUUID(),
    'version': '0',
    'detail-type': 'Step Functions Execution Status Change',
    'source': 'aws.states',
    'account': '000000000000',
    'detail': {
      executionArn: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${input.eventId}`,
      stateMachineArn,
      name: input.eventId,
      status: status as any,
      input: JSON.stringify(input),
    },
  } as StoppedExecution;
}

function recordingBus() {
  const published: Array<EventEnvelope<any>> = [];
  const publisher: FactPublisher = { publish: async (event) => { published.push(event); } };
  return { published, publisher };
}

/** Executions that stopped without running their Catch: the same compensation, from the status-change event. */
describe('timed-out, aborted and compensation-failed executions', () => {
  async function halfway(courseId: string) {
    const t = await enrollmentTable();
    await t.seedTrainers(courseId, [1]);
    const input = sagaInput({ courseId });
    await createPurchase(t.services, input);
    await allocateTrainer(t.services, input);
    await scheduleSessions(t.services, input);
    return { t, input };
  }

  test.each([['TIMED_OUT', 'SAGA_TIMED_OUT'], ['ABORTED', 'SAGA_ABORTED']] as const)(
    'an execution %s mid-way: seat, purchase and guards freed, EnrollmentFailed %s once (twice = once)', async (status, reason) => {
      const { t, input } = await halfway(`crs_${status.toLowerCase()}`);
      const bus = recordingBus();
      const event = statusChange(input, status);
      expect(await compensateStopped(t.services, bus.publisher, MACHINE, event)).toMatchObject({ outcome: 'compensated' });
      expect(await compensateStopped(t.services, bus.publisher, MACHINE, { ...event, id: randomUUID() })).toMatchObject({ outcome: 'compensated' });
      expect((await t.trainers(input.courseId))[0].allocated).toBe(0);
      expect(await t.get(`PURCHASE#pur_${input.sagaId}`, 'PURCHASE')).toMatchObject({ status: 'CANCELLED' });
      expect(await t.get(`STUDENT#${input.studentId}#COURSE#${input.courseId}`, 'ACTIVE_PURCHASE')).toBeUndefined();
      expect(await t.get(`STUDENT#${input.studentId}#COURSE#${input.courseId}`, 'ACTIVE_ALLOCATION')).toBeUndefined();
      expect(bus.published).toHaveLength(1);
      expect(bus.published[0]).toMatchObject({ eventType: EnrollmentEvents.ENROLLMENT_FAILED, payload: { reason, paymentId: input.paymentId } });
      // the student is not left "AlreadyEnrolled": a new payment enrolls
      const next = sagaInput({ courseId: input.courseId, studentId: input.studentId });
      await createPurchase(t.services, next);
      await expect(allocateTrainer(t.services, next)).resolves.toMatchObject({ trainerId: 'trn_0' });
    });

  test('a completed enrollment is kept; a failed execution already compensated is left alone; another state machine is ignored', async () => {
    const { t, input } = await halfway('crs_kept');
    await completeEnrollment(t.services, input);
    const bus = recordingBus();
    expect(await compensateStopped(t.services, bus.publisher, MACHINE, statusChange(input, 'TIMED_OUT'))).toMatchObject({ outcome: 'kept-completed' });
    expect(await t.get(`PURCHASE#pur_${input.sagaId}`, 'PURCHASE')).toMatchObject({ status: 'ACTIVE' });

    const { t: t2, input: failed } = await halfway('crs_compensated');
    await compensate(t2.services, { ...failed, error: { Error: 'TransientError' } }); // the state machine's own compensation finished
    expect(await compensateStopped(t2.services, bus.publisher, MACHINE, statusChange(failed, 'FAILED'))).toMatchObject({ outcome: 'already-compensated' });
    expect(await compensateStopped(t2.services, bus.publisher, MACHINE, statusChange(failed, 'TIMED_OUT', `${MACHINE}-other`)))
      .toMatchObject({ outcome: 'other-state-machine' });
    expect(bus.published).toHaveLength(0);
  });

  test('an execution that ended in CompensationFailed is compensated from its FAILED status change', async () => {
    const { t, input } = await halfway('crs_comp_failed');
    const bus = recordingBus();
    expect(await compensateStopped(t.services, bus.publisher, MACHINE, statusChange(input, 'FAILED'))).toMatchObject({ outcome: 'compensated' });
    expect((await t.trainers('crs_comp_failed'))[0].allocated).toBe(0);
    expect(bus.published.map((e) => e.payload.reason)).toEqual(['STEP_FAILED']);
  });
});

type SqsFn = (event: SQSEvent, context: unknown) => Promise<SQSBatchResponse>;

/** The two queue consumers as Lambda runs them (bundles), on DynamoDB Local, a local bus and a local DLQ. */
describe('refund and stopped-execution consumers (bundled handlers)', () => {
  let bus: LocalEventBridge;
  let t: Awaited<ReturnType<typeof enrollmentTable>>;
  let dlqUrl: string;
  let cancelOnRefund: SqsFn;
  let compensateStoppedHandler: SqsFn;
  const sqs = localClients().sqs;
  beforeAll(async () => {
    bus = await startLocalEventBridge();
    t = await enrollmentTable();
    const idempotencyTable = uniqueName('consumers-idempotency');
    await createIdempotencyTable(localClients().ddb, idempotencyTable);
    dlqUrl = await createQueue(sqs, uniqueName('refund-dlq'));
    configureHandlerEnv({
      [E.TABLE_NAME]: t.services.tableName,
      [E.IDEMPOTENCY_TABLE_NAME]: idempotencyTable,
      [E.ACCEPTED_SOURCES]: 'cdk-event-services.payment-outbox',
      [E.ACCEPTED_ACCOUNTS]: '000000000000',
      [E.DEAD_LETTER_QUEUE_URL]: dlqUrl,
      [E.EVENT_BUS_NAME]: 'payments-bus',
      [E.STATE_MACHINE_ARN]: MACHINE,
      AWS_ENDPOINT_URL_EVENTBRIDGE: bus.endpoint,
    });
    cancelOnRefund = loadHandler<SqsFn>(await bundleHandler('functions/enrollment-saga/cancel-on-refund.ts'));
    compensateStoppedHandler = loadHandler<SqsFn>(await bundleHandler('functions/enrollment-saga/compensate-stopped.ts'));
  });
  afterAll(() => bus.stop());

  const refundEvent = (input: SagaInput, source = 'cdk-event-services.payment-outbox') => ({
    'id': randomUUID(),
    'detail-type': 'PaymentRefunded',
    source,
    'account': '000000000000',
    'detail': paymentRefunded(input, PRICE.amount, { source }),
  });

  test('a full refund of a completed enrollment: EnrollmentCancelled on the bus once, however often delivered; a forged refund cancels nothing', async () => {
    await t.seedTrainers('crs_bundle', [2]);
    const input = sagaInput({ courseId: 'crs_bundle' });
    const victim = sagaInput({ courseId: 'crs_bundle' });
    for (const i of [input, victim]) {
      await createPurchase(t.services, i);
      await allocateTrainer(t.services, i);
      await scheduleSessions(t.services, i);
      await completeEnrollment(t.services, i);
    }
    const refund = refundEvent(input);
    const forged = refundEvent(victim, 'attacker.app');
    const body = JSON.stringify(refund);
    bus.failEntries((e) => e.DetailType === EnrollmentEvents.ENROLLMENT_CANCELLED, 1); // the bus refuses the fact once
    const first = await cancelOnRefund({ Records: [sqsRecord(body), sqsRecord(JSON.stringify(forged))] }, fakeContext());
    expect(first.batchItemFailures).toHaveLength(1); // the refund: retried by SQS
    const again = await cancelOnRefund({ Records: [sqsRecord(body), sqsRecord(body)] }, fakeContext());
    expect(again).toEqual({ batchItemFailures: [] });
    const cancelled = bus.details().filter((d) => d.eventType === EnrollmentEvents.ENROLLMENT_CANCELLED);
    expect(cancelled).toHaveLength(1);
    expect(cancelled[0].payload).toMatchObject({ reason: 'PAYMENT_REFUNDED', paymentId: input.paymentId });
    expect(bus.accepted.find((e) => e.DetailType === EnrollmentEvents.ENROLLMENT_CANCELLED)).toMatchObject({
      EventBusName: 'payments-bus', Source: 'cdk-event-services.enrollment-saga',
    });
    expect(await t.get(`PURCHASE#pur_${input.sagaId}`, 'PURCHASE')).toMatchObject({ status: 'CANCELLED' });
    expect(await t.get(`PURCHASE#pur_${victim.sagaId}`, 'PURCHASE')).toMatchObject({ status: 'ACTIVE' });
    const [moved] = await receiveAtLeast(sqs, dlqUrl, 1, 3_000);
    expect(JSON.parse(moved.Body!).detail.payload.paymentId).toBe(victim.paymentId);
    expect(moved.MessageAttributes?.refusedReason?.StringValue).toMatch(/foreign event: source 'attacker.app'/);
  });

  test('a timed-out execution\'s status change: compensated, EnrollmentFailed SAGA_TIMED_OUT on the bus', async () => {
    await t.seedTrainers('crs_bundle_timeout', [1]);
    const input = sagaInput({ courseId: 'crs_bundle_timeout' });
    await createPurchase(t.services, input);
    await allocateTrainer(t.services, input);
    const event = statusChange(input, 'TIMED_OUT');
    expect(await compensateStoppedHandler({ Records: [sqsRecord(JSON.stringify(event))] }, fakeContext())).toEqual({ batchItemFailures: [] });
    expect((await t.trainers('crs_bundle_timeout'))[0].allocated).toBe(0);
    const failed = bus.details().filter((d) => d.eventType === EnrollmentEvents.ENROLLMENT_FAILED && d.correlationId === input.sagaId);
    expect(failed.map((d) => d.payload.reason)).toEqual(['SAGA_TIMED_OUT']);
  });
});
