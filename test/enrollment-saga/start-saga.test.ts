import { randomUUID } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { PRICE } from './enrollment-fixture';
import { EnrollmentSagaEnv as E } from '../../lib/enrollment-saga/contract';
import { bundleHandler, loadHandler } from '../harness/bundle-handler';
import { configureHandlerEnv, createQueue, fakeContext, localClients, receiveAtLeast, sqsRecord, uniqueName } from '../harness/local-aws';
import { localStateMachineArn, LocalStepFunctions, startLocalStepFunctions } from '../harness/local-step-functions';

type SqsFn = (event: SQSEvent, context: unknown) => Promise<SQSBatchResponse>;
const ACCOUNT = '000000000000';
const OUTBOX = 'cdk-event-services.payment-outbox';

/** A PaymentSucceeded event as the rule delivers it to the starter's queue. */
function paymentSucceeded(
  paymentId: string,
  metadata: Record<string, string> | undefined,
  { eventId = randomUUID(), source = OUTBOX, account = ACCOUNT, amount = PRICE.amount as number } = {},
) {
  return {
    'version': '0',
    'id': randomUUID(),
    'detail-type': 'PaymentSucceeded',
    source,
    account,
    'time': new Date().toISOString(),
    'region': 'us-east-1',
    'resources': [],
    'detail': {
      eventId,
      eventType: 'PaymentSucceeded',
      correlationId: paymentId,
      occurredAt: new Date().toISOString(),
      source,
      version: 1,
      payload: { paymentId, status: 'succeeded', amount, currency: PRICE.currency, ...(metadata ? { metadata } : {}) },
    },
  };
}
const record = (body: unknown) => sqsRecord(JSON.stringify(body)); // a standard queue: no message group

/** The bundled starter against a local StartExecution endpoint and a local DLQ (fauxqs). */
describe('saga starter', () => {
  let sfn: LocalStepFunctions;
  let start: SqsFn;
  let dlqUrl: string;
  const sqs = localClients().sqs;
  const refused = async (count: number) => (receiveAtLeast(sqs, dlqUrl, count, 3_000));
  beforeAll(async () => {
    sfn = await startLocalStepFunctions();
    dlqUrl = await createQueue(sqs, uniqueName('trigger-dlq'));
    configureHandlerEnv({
      [E.STATE_MACHINE_ARN]: localStateMachineArn('enrollment'),
      [E.ACCEPTED_SOURCES]: OUTBOX,
      [E.ACCEPTED_ACCOUNTS]: ACCOUNT,
      [E.DEAD_LETTER_QUEUE_URL]: dlqUrl,
      AWS_ENDPOINT_URL_SFN: sfn.endpoint,
    });
    start = loadHandler<SqsFn>(await bundleHandler('functions/enrollment-saga/start-saga.ts'));
  });
  afterAll(() => sfn.stop());

  test('one event delivered 5 times (in one batch and across batches) starts one execution named after its id, with the amount paid', async () => {
    const event = paymentSucceeded('pay_once', { studentId: 'stu_1', courseId: 'crs_1' });
    const batch = { Records: [record(event), record(event), record(event)] };
    expect(await start(batch, fakeContext())).toEqual({ batchItemFailures: [] });
    expect(await start({ Records: [record(event), record(event)] }, fakeContext())).toEqual({ batchItemFailures: [] });
    const mine = sfn.started.filter((s) => s.input.paymentId === 'pay_once');
    expect(mine).toEqual([{
      name: event.detail.eventId,
      input: {
        sagaId: 'pay_once',
        eventId: event.detail.eventId,
        correlationId: 'pay_once',
        paymentId: 'pay_once',
        studentId: 'stu_1',
        courseId: 'crs_1',
        amount: PRICE.amount,
        currency: PRICE.currency,
      },
    }]);
    expect(sfn.calls.filter((c) => c.input.name === event.detail.eventId)).toHaveLength(5);
  });

  test('foreign source or account, no student/course, a malformed detail: no saga, each moved to the DLQ at once with its reason', async () => {
    const keys = { studentId: 'stu_2', courseId: 'crs_1' };
    const good = paymentSucceeded('pay_good', keys);
    const forgedSource = paymentSucceeded('pay_forged_source', keys, { source: 'someone.else' });
    const forgedAccount = paymentSucceeded('pay_forged_account', keys, { account: '999999999999' });
    const noKeys = paymentSucceeded('pay_no_keys', undefined);
    const malformed = { source: OUTBOX, account: ACCOUNT, detail: { eventId: 'not-a-uuid' } };
    const records = [forgedSource, good, forgedAccount, noKeys, malformed].map(record);
    const result = await start({ Records: records }, fakeContext());
    expect(result).toEqual({ batchItemFailures: [] }); // none is received again: they are in the DLQ already
    const startedIds = sfn.started.map((s) => s.input.paymentId);
    expect(startedIds).toContain('pay_good');
    for (const id of ['pay_forged_source', 'pay_forged_account', 'pay_no_keys']) expect(startedIds).not.toContain(id);
    const inDlq = await refused(4);
    expect(inDlq.map((m) => JSON.parse(m.Body!).detail?.payload?.paymentId ?? 'malformed').sort())
      .toEqual(['malformed', 'pay_forged_account', 'pay_forged_source', 'pay_no_keys']);
    const reasons = Object.fromEntries(inDlq.map((m) => [JSON.parse(m.Body!).detail?.payload?.paymentId ?? 'malformed', m.MessageAttributes?.refusedReason?.StringValue]));
    expect(reasons.pay_forged_source).toMatch(/foreign event: source 'someone.else'/);
    expect(reasons.pay_forged_account).toMatch(/foreign event: account '999999999999'/);
    expect(reasons.pay_no_keys).toMatch(/names no studentId\/courseId/);
    expect(reasons.malformed).toMatch(/invalid detail at 'eventId'/);
  });

  test('a payment event without amount or currency starts no saga (its amount could not be checked)', async () => {
    const event = paymentSucceeded('pay_no_amount', { studentId: 'stu_3', courseId: 'crs_1' }) as any;
    delete event.detail.payload.amount;
    expect(await start({ Records: [record(event)] }, fakeContext())).toEqual({ batchItemFailures: [] });
    expect(sfn.started.map((s) => s.input.paymentId)).not.toContain('pay_no_amount');
    const [moved] = await refused(1);
    expect(moved.MessageAttributes?.refusedReason?.StringValue).toMatch(/payload.amount/);
  });
});
