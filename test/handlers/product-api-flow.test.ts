import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ProductApiFixture, deliverAll, parse, setupProductApi } from './product-fixture';

/**
 * The whole write path on real engines: accept (202) → SNS FIFO fan-out → writer and audit
 * queues → apply-change and audit-change → read-products, for create, update and delete.
 */
describe('product API end to end', () => {
  let f: ProductApiFixture;
  beforeAll(async () => { f = await setupProductApi('flow'); });
  afterAll(async () => { await f?.stop(); });

  test('create, update, delete flow through the topic, the writer and the auditor', async () => {
    const correlationId = 'flow-test-correlation-1';
    const created = await f.accept({
      method: 'POST',
      headers: { 'X-Correlation-Id': correlationId },
      body: { name: 'Espresso Cup', description: 'Porcelain', price: 12.5, currency: 'EUR' },
    });
    expect(created.statusCode).toBe(202);
    expect(created.headers?.['x-correlation-id']).toBe(correlationId);
    const { productId, eventId } = parse(created);
    expect(created.headers?.Location).toBe(`/v1.0/products/${productId}`);
    expect(eventId).toMatch(/^[0-9a-f-]{36}$/);

    // Accepted is not applied: nothing is readable until the writer runs.
    expect((await f.read({ method: 'GET', productId })).statusCode).toBe(404);

    await deliverAll(f, 1);
    const got = await f.read({ method: 'GET', productId });
    expect(got.statusCode).toBe(200);
    const product = parse(got);
    expect(product).toEqual({
      productId,
      name: 'Espresso Cup',
      description: 'Porcelain',
      price: 12.5,
      currency: 'EUR',
      status: 'ACTIVE',
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(parse(await f.read({ method: 'GET' })).items.map((p: any) => p.productId)).toEqual([productId]);

    const updated = await f.accept({ method: 'PUT', productId, body: { name: 'Espresso Cup XL', price: 14, currency: 'EUR' } });
    expect(updated.statusCode).toBe(202);
    await deliverAll(f, 1);
    const afterUpdate = parse(await f.read({ method: 'GET', productId }));
    expect(afterUpdate).toMatchObject({ name: 'Espresso Cup XL', price: 14, createdAt: product.createdAt });
    expect(afterUpdate.description).toBeUndefined(); // PUT replaces the whole product

    const deleted = await f.accept({ method: 'DELETE', productId });
    expect(deleted.statusCode).toBe(204);
    await deliverAll(f, 1);
    expect((await f.read({ method: 'GET', productId })).statusCode).toBe(404);
    expect(parse(await f.read({ method: 'GET' })).items).toEqual([]);
    expect(parse(await f.read({ method: 'GET', query: { name: 'espresso cup xl' } })).items).toEqual([]);
    // A deleted product can be neither updated nor deleted again.
    expect((await f.accept({ method: 'DELETE', productId })).statusCode).toBe(404);

    // One audit object per change, under the deterministic key, as JSON.
    const listed = await f.clients.s3.send(new ListObjectsV2Command({ Bucket: f.bucketName, Prefix: `changes/${productId}/` }));
    const keys = (listed.Contents ?? []).map((o) => o.Key!);
    expect(keys).toHaveLength(3);
    const audited = [];
    for (const key of keys) {
      const obj = await f.clients.s3.send(new GetObjectCommand({ Bucket: f.bucketName, Key: key }));
      expect(obj.ContentType).toBe('application/json');
      const change = JSON.parse(await obj.Body!.transformToString());
      expect(key).toBe(`changes/${productId}/${change.payload.acceptedAt}-${change.eventId}.json`);
      audited.push(change);
    }
    audited.sort((a, b) => a.payload.acceptedAt - b.payload.acceptedAt);
    expect(audited.map((c) => c.eventType)).toEqual(['ProductCreated', 'ProductUpdated', 'ProductDeleted']);
    expect(audited[0]).toMatchObject({ eventId, correlationId, source: 'cdk-event-services.product-api', version: 1 });
  });

  test('bundle sizes are reported', () => {
    for (const [name, b] of Object.entries(f.bundles)) {
      // eslint-disable-next-line no-console
      console.log(`bundle ${name}: ${b.bytes} bytes (minified)`);
      expect(b.bytes).toBeGreaterThan(0);
    }
  });
});
