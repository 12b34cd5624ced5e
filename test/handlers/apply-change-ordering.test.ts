import { randomUUID } from 'node:crypto';
import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { ProductApiFixture, changeEnvelope, recordFor, setupProductApi } from './product-fixture';
import { ProductApiHandlers } from '../../lib/product-api/contract';

/** The writer applies each change once and never lets an older change overwrite a newer one. */
describe('apply-change: duplicates and ordering', () => {
  let f: ProductApiFixture;
  beforeAll(async () => { f = await setupProductApi('ordering'); });
  afterAll(async () => { await f?.stop(); });

  const getItem = async (productId: string) =>
    (await f.clients.doc.send(new GetCommand({ TableName: f.tableName, Key: { PK: `PRODUCT#${productId}`, SK: 'METADATA' } }))).Item;
  const applyOne = async (envelope: ReturnType<typeof changeEnvelope>) => {
    const result = await f.apply({ Records: [recordFor(envelope)] });
    expect(result.batchItemFailures).toEqual([]);
  };
  const product = (price: number, name = 'Kettle') => ({ name, price, currency: 'USD' });

  test('a change delivered three times is applied once', async () => {
    const productId = randomUUID();
    const created = changeEnvelope({ eventType: 'ProductCreated', productId, acceptedAt: 1_000, product: product(5) });
    await applyOne(created);
    const first = await getItem(productId);
    expect(first).toMatchObject({ price: 5, status: 'ACTIVE', changeVersion: `000000000001000#${created.eventId}` });

    // Redelivery (new SQS message id, same eventId), also inside one batch.
    await applyOne(created);
    const batch = await f.apply({ Records: [recordFor(created), recordFor(created)] });
    expect(batch.batchItemFailures).toEqual([]);
    expect(await getItem(productId)).toEqual(first);

    // Exactly one idempotency record (this is the file's first event), completed, with the outcome.
    const { Items } = await f.clients.doc.send(new ScanCommand({ TableName: f.idempotencyTableName }));
    expect(Items).toHaveLength(1);
    expect(Items![0].id.startsWith(`${ProductApiHandlers.writer.serviceName}#`)).toBe(true);
    expect(Items![0].status).toBe('COMPLETED');
    expect(Items![0].data).toEqual({ outcome: 'applied', changeVersion: `000000000001000#${created.eventId}` });
  });

  test('an older update delivered after a newer one does not overwrite it', async () => {
    const productId = randomUUID();
    await applyOne(changeEnvelope({ eventType: 'ProductCreated', productId, acceptedAt: 1_000, product: product(5) }));
    const newer = changeEnvelope({ eventType: 'ProductUpdated', productId, acceptedAt: 3_000, product: product(30, 'Kettle v3') });
    const older = changeEnvelope({ eventType: 'ProductUpdated', productId, acceptedAt: 2_000, product: product(20, 'Kettle v2') });
    await applyOne(newer);
    await applyOne(older); // succeeds as a record (stale is not an error) but writes nothing
    expect(await getItem(productId)).toMatchObject({
      name: 'Kettle v3',
      price: 30,
      changeVersion: `000000000003000#${newer.eventId}`,
      GSI1_SK: `000000003000#${productId}`,
      GSI2_PK: 'NAME#kettle v3',
      createdAt: new Date(1_000).toISOString(),
      updatedAt: new Date(3_000).toISOString(),
    });

    // A stale delete is ignored too; a newer delete soft-deletes and drops the index keys.
    await applyOne(changeEnvelope({ eventType: 'ProductDeleted', productId, acceptedAt: 2_500 }));
    expect((await getItem(productId))?.status).toBe('ACTIVE');
    await applyOne(changeEnvelope({ eventType: 'ProductDeleted', productId, acceptedAt: 4_000 }));
    const deleted = await getItem(productId);
    expect(deleted).toMatchObject({ status: 'DELETED', name: 'Kettle v3' });
    expect(deleted).not.toHaveProperty('GSI1_PK');
    expect(deleted).not.toHaveProperty('GSI1_SK');
    expect(deleted).not.toHaveProperty('GSI2_PK');
  });

  test('an update accepted while its delete was in flight does not revive the product', async () => {
    const productId = randomUUID();
    await applyOne(changeEnvelope({ eventType: 'ProductCreated', productId, acceptedAt: 1_000, product: product(5) }));
    await applyOne(changeEnvelope({ eventType: 'ProductDeleted', productId, acceptedAt: 2_000 }));
    // accepted after the delete (newer version) because the delete was not yet applied
    await applyOne(changeEnvelope({ eventType: 'ProductUpdated', productId, acceptedAt: 3_000, product: product(9, 'Revived') }));
    const item = await getItem(productId);
    expect(item).toMatchObject({ status: 'DELETED', name: 'Kettle' });
    expect(item?.GSI1_PK).toBeUndefined();
    expect(item?.GSI2_PK).toBeUndefined();
  });

  test('a delete that overtakes its create leaves a tombstone the late create cannot revive', async () => {
    const productId = randomUUID();
    await applyOne(changeEnvelope({ eventType: 'ProductDeleted', productId, acceptedAt: 6_000 }));
    await applyOne(changeEnvelope({ eventType: 'ProductCreated', productId, acceptedAt: 5_000, product: product(9) }));
    const item = await getItem(productId);
    expect(item).toMatchObject({ status: 'DELETED' });
    expect(item).not.toHaveProperty('GSI1_PK');
  });

  test('concurrent duplicates write once; a loser is an in-progress failure retried later', async () => {
    const productId = randomUUID();
    const created = changeEnvelope({ eventType: 'ProductCreated', productId, acceptedAt: 7_000, product: product(7) });
    const results = await Promise.all([0, 1, 2].map(() => f.apply({ Records: [recordFor(created)] })));
    const failures = results.flatMap((r) => r.batchItemFailures);
    expect(failures.length).toBeLessThan(3);
    expect(await getItem(productId)).toMatchObject({ price: 7, changeVersion: `000000000007000#${created.eventId}` });
    // A retry of any failed one now succeeds from the stored result.
    await applyOne(created);
  });
});
