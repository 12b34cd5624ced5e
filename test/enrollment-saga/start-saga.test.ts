import { randomUUID } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { bundleHandler, loadHandler } from '../harness/bundle-handler';
import { configureHandlerEnv, fakeContext, sqsRecord } from '../harness/local-aws';
import { localStateMachineArn, LocalStepFunctions, startLocalStepFunctions } from '../harness/local-step-functions';

type SqsFn = (event: SQSEvent, context: unknown) => Promise<SQSBatchResponse>;

/** A PaymentSucceeded event as the rule delivers it to the starter's queue. */
function paymentSucceeded(paymentId: string, metadata: Record<string, string> | undefined, eventId = randomUUID()) {
  return {
    'version': '0',
    'id': randomUUID(),
    'detail-type': 'PaymentSucceeded',
    'source': 'cdk-event-services.payment-outbox',
    'account': '000000000000',
    'time': new Date().toISOString(),
    'region': 'us-east-1',
    'resources': [],
    'detail': {
      eventId,
      eventType: 'PaymentSucceeded',
      correlationId: paymentId,
      occurredAt: new Date().toISOString(),
      source: 'cdk-event-services.payment-outbox',
      version: 1,
      payload: { paymentId, status: 'succeeded', amount: 4200, currency: 'EUR', ...(metadata ? { metadata } : {}) },
    },
  };
}
const record = (body: unknown) => sqsRecord(JSON.stringify(body)); // a standard queue: no message group

/** The bundled starter against a local StartExecution endpoint. */
describe('saga starter', () => {
  let sfn: LocalStepFunctions;
  let start: SqsFn;
  beforeAll(async () => {
    sfn = await startLocalStepFunctions();
    configureHandlerEnv({ STATE_MACHINE_ARN: localStateMachineArn('enrollment'), AWS_ENDPOINT_URL_SFN: sfn.endpoint });
    start = loadHandler<SqsFn>(await bundleHandler('functions/enrollment-saga/start-saga.ts'));
  });
  afterAll(() => sfn.stop());

  test('one event delivered 5 times (in one batch and across batches) starts one execution named after its id', async () => {
    const event = paymentSucceeded('pay_once', { studentId: 'stu_1', courseId: 'crs_1' });
    const batch = { Records: [record(event), record(event), record(event)] };
    expect(await start(batch, fakeContext())).toEqual({ batchItemFailures: [] });
    expect(await start({ Records: [record(event), record(event)] }, fakeContext())).toEqual({ batchItemFailures: [] });
    const mine = sfn.started.filter((s) => s.input.paymentId === 'pay_once');
    expect(mine).toEqual([{
      name: event.detail.eventId,
      input: { sagaId: 'pay_once', eventId: event.detail.eventId, correlationId: 'pay_once', paymentId: 'pay_once', studentId: 'stu_1', courseId: 'crs_1' },
    }]);
    expect(sfn.calls.filter((c) => c.input.name === event.detail.eventId)).toHaveLength(5);
  });

  test('an event without student or course fails alone; the others start', async () => {
    const good = paymentSucceeded('pay_good', { studentId: 'stu_2', courseId: 'crs_1' });
    const bad = record(paymentSucceeded('pay_bad', undefined));
    const malformed = record({ detail: { eventId: 'not-a-uuid' } });
    const result = await start({ Records: [bad, record(good), malformed] }, fakeContext());
    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([bad.messageId, malformed.messageId].sort());
    expect(sfn.started.map((s) => s.input.paymentId)).toContain('pay_good');
    expect(sfn.started.map((s) => s.input.paymentId)).not.toContain('pay_bad');
  });
});
