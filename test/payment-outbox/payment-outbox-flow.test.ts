import { randomUUID } from 'node:crypto';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { parse, providerBody, setupWebhook, signedDelivery, WebhookFixture } from './webhook-fixture';
import { PaymentEvents, OUTBOX_STREAM_FILTER } from '../../lib/payment-outbox/contract';
import { bundleHandler, loadHandler } from '../harness/bundle-handler';
import { matchesFilter, readStream } from '../harness/dynamodb-stream';
import { configureHandlerEnv, fakeContext } from '../harness/local-aws';
import { LocalEventBridge, startLocalEventBridge } from '../harness/local-eventbridge';

type StreamFn = (event: DynamoDBStreamEvent, context: unknown) => Promise<DynamoDBBatchResponse>;
const SECRET = 'whsec_flow_0123456789';

/**
 * The whole path on real engines: signed webhooks into the bundled webhook handler, the
 * payments table's stream on DynamoDB Local, the event filter, the bundled publisher, and
 * the PutEvents calls at a local EventBridge endpoint.
 */
describe('payment outbox end to end', () => {
  let f: WebhookFixture;
  let bus: LocalEventBridge;
  let publish: StreamFn;
  beforeAll(async () => {
    f = await setupWebhook('flow', SECRET);
    bus = await startLocalEventBridge();
    configureHandlerEnv({ EVENT_BUS_NAME: 'payments-bus', AWS_ENDPOINT_URL_EVENTBRIDGE: bus.endpoint });
    publish = loadHandler<StreamFn>(await bundleHandler('functions/payment-outbox/publish-outbox.ts'));
  });
  afterAll(async () => { await f.stop(); await bus.stop(); });

  test('each announced transition reaches the bus exactly once, redeliveries and ignored events never', async () => {
    const paymentId = `pay_${randomUUID()}`;
    const deliver = (body: object) => f.call(signedDelivery({ body, secret: SECRET }));
    const minute = (m: number) => `2026-11-24T12:0${m}:00.000Z`;
    const pending = providerBody('payment.pending', paymentId, { created: minute(0), metadata: { studentId: 'stu_1', courseId: 'crs_1' } });
    const succeeded = providerBody('payment.succeeded', paymentId, { created: minute(1) });
    const answers = [
      await deliver(pending),
      await deliver(succeeded),
      await deliver(succeeded), // redelivery
      await deliver(providerBody('payment.failed', paymentId, { created: minute(2) })), // not allowed after succeeded
      await deliver({ id: `evt_${randomUUID()}`, type: 'payment.refunded', created: minute(3), data: { paymentId, refundAmount: 200 } }),
    ];
    expect(answers.map((a) => [a.statusCode, parse(a).outcome])).toEqual([
      [200, 'applied'], [200, 'applied'], [200, 'applied'], [200, 'ignored'], [200, 'applied'],
    ]);

    const { Table } = await f.clients.ddb.send(new DescribeTableCommand({ TableName: f.tableName }));
    const records = (await readStream(Table!.LatestStreamArn!)).filter((r) => matchesFilter(r, OUTBOX_STREAM_FILTER));
    expect(await publish({ Records: records }, fakeContext('outbox-publisher'))).toEqual({ batchItemFailures: [] });

    const published = bus.details();
    expect(published.map((d) => d.eventType)).toEqual([PaymentEvents.SUCCEEDED, PaymentEvents.REFUNDED]);
    expect(published.map((d) => d.eventId)).toEqual([parse(answers[1]).outboxEventId, parse(answers[4]).outboxEventId]);
    expect(published[0]).toMatchObject({
      correlationId: paymentId,
      payload: { paymentId, status: 'succeeded', amount: 4_200, refundedAmount: 0, metadata: { studentId: 'stu_1', courseId: 'crs_1' } },
    });
    expect(published[1].payload).toMatchObject({ status: 'partially_refunded', refundAmount: 200, refundedAmount: 200 });
  });
});
