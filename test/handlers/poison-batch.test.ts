import { randomUUID } from 'node:crypto';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { ProductApiFixture, changeEnvelope, recordFor, setupProductApi } from './product-fixture';
import { createFifoQueue, FifoQueue, deleteMessages, receive, releaseMessages, sqsRecord, toSqsEvent, uniqueName } from '../harness/local-aws';

/** A bad record fails alone, is retried, and lands in the DLQ after maxReceiveCount. */
describe('apply-change: poison records', () => {
  let f: ProductApiFixture;
  let queue: FifoQueue;
  beforeAll(async () => {
    f = await setupProductApi('poison');
    queue = await createFifoQueue(f.clients.sqs, uniqueName('poison-direct'), 3);
  });
  afterAll(async () => { await f?.stop(); });

  const getItem = async (productId: string) =>
    (await f.clients.doc.send(new GetCommand({ TableName: f.tableName, Key: { PK: `PRODUCT#${productId}`, SK: 'METADATA' } }))).Item;
  const create = (productId: string, acceptedAt = 1_000) =>
    changeEnvelope({ eventType: 'ProductCreated', productId, acceptedAt, product: { name: 'Lamp', price: 25, currency: 'USD' } });

  test('one poison record in a batch of ten fails alone and ends in the DLQ', async () => {
    const productIds = Array.from({ length: 9 }, () => randomUUID());
    const poisonBody = JSON.stringify({ ...create(randomUUID()), eventId: 'not-a-uuid' });
    const bodies: Array<{ body: string; group: string }> = productIds.map((id) => ({ body: JSON.stringify(create(id)), group: id }));
    bodies.splice(4, 0, { body: poisonBody, group: 'poison-group' });
    for (const [i, m] of bodies.entries()) {
      await f.clients.sqs.send(new SendMessageCommand({
        QueueUrl: queue.url, MessageBody: m.body, MessageGroupId: m.group, MessageDeduplicationId: `dedup-${i}`,
      }));
    }

    let poisonMessageId: string | undefined;
    let rounds = 0;
    // The event source mapping's loop: delete what succeeded, make failures visible again.
    for (; rounds < 8; rounds++) {
      const messages = await receive(f.clients.sqs, queue.url, 10, 1);
      if (messages.length === 0) break;
      const result = await f.apply(toSqsEvent(messages, queue.arn));
      const failed = new Set(result.batchItemFailures.map((b) => b.itemIdentifier));
      if (rounds === 0) {
        expect(messages).toHaveLength(10);
        poisonMessageId = messages.find((m) => m.Body === poisonBody)!.MessageId;
        expect([...failed]).toEqual([poisonMessageId]);
      } else {
        expect(messages.map((m) => m.MessageId)).toEqual([poisonMessageId]);
        expect([...failed]).toEqual([poisonMessageId]);
      }
      await deleteMessages(f.clients.sqs, queue.url, messages.filter((m) => !failed.has(m.MessageId!)));
      await releaseMessages(f.clients.sqs, queue.url, messages.filter((m) => failed.has(m.MessageId!)));
    }
    expect(rounds).toBe(3); // received maxReceiveCount times, then redriven
    for (const id of productIds) expect((await getItem(id))?.status).toBe('ACTIVE');
    const dead = await receive(f.clients.sqs, queue.dlqUrl, 10, 1);
    expect(dead.map((m) => m.Body)).toEqual([poisonBody]);
    expect(await receive(f.clients.sqs, queue.url, 10, 0)).toEqual([]);
  });

  test('after a failure, later records of the same group fail unprocessed; other groups go on', async () => {
    const [g1, g2] = [randomUUID(), randomUUID()];
    const a = recordFor(create(g1, 1_000));
    const poison = sqsRecord('{"not": "an envelope"}', g1);
    const c = recordFor(changeEnvelope({ eventType: 'ProductUpdated', productId: g1, acceptedAt: 2_000, product: { name: 'Lamp 2', price: 30, currency: 'USD' } }));
    const d = recordFor(create(g2, 1_000));
    const e = sqsRecord('{', g2 + '-other'); // malformed JSON in a group of its own
    const result = await f.apply({ Records: [a, poison, c, d, e] });
    expect(result.batchItemFailures.map((b) => b.itemIdentifier)).toEqual([poison.messageId, c.messageId, e.messageId]);
    expect(await getItem(g1)).toMatchObject({ name: 'Lamp', price: 25 }); // c was not applied
    expect((await getItem(g2))?.status).toBe('ACTIVE');
  });
});
