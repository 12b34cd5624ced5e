import { randomUUID } from 'node:crypto';
import { ProductApiFixture, changeEnvelope, parse, recordFor, setupProductApi } from './product-fixture';

/** Listing reads the sparse indexes: pages by price, price ranges, names; deleted ones never show. */
describe('read-products: listing', () => {
  let f: ProductApiFixture;
  const ids: Record<string, string> = {};
  const seed: Array<[string, string, number]> = [
    ['a', 'Widget', 5], ['b', 'Gadget', 10.5], ['c', '  WIDGET ', 20], ['d', 'Doohickey', 30], ['e', 'Gizmo', 40],
  ];

  beforeAll(async () => {
    f = await setupProductApi('list');
    const records = seed.map(([key, name, price], i) => {
      ids[key] = randomUUID();
      return recordFor(changeEnvelope({ eventType: 'ProductCreated', productId: ids[key], acceptedAt: 1_000 + i, product: { name, price, currency: 'USD' } }));
    });
    // One more product, created then deleted: it must appear in no list.
    ids.gone = randomUUID();
    records.push(recordFor(changeEnvelope({ eventType: 'ProductCreated', productId: ids.gone, acceptedAt: 1, product: { name: 'Widget', price: 15, currency: 'USD' } })));
    records.push(recordFor(changeEnvelope({ eventType: 'ProductDeleted', productId: ids.gone, acceptedAt: 2 })));
    expect((await f.apply({ Records: records })).batchItemFailures).toEqual([]);
  });
  afterAll(async () => { await f?.stop(); });

  async function listAll(query: Record<string, string>): Promise<{ pages: number; items: any[] }> {
    const items: any[] = [];
    let pages = 0;
    let nextToken: string | undefined;
    do {
      const res = await f.read({ method: 'GET', query: { ...query, ...(nextToken ? { nextToken } : {}) } });
      expect(res.statusCode).toBe(200);
      const body = parse(res);
      expect(body.items.length).toBeLessThanOrEqual(Number(query.limit ?? 20));
      items.push(...body.items);
      nextToken = body.nextToken;
      pages++;
    } while (nextToken && pages < 10);
    return { pages, items };
  }

  test('limit 2 over 5 products pages through all of them in price order', async () => {
    const { pages, items } = await listAll({ limit: '2' });
    expect(pages).toBe(3);
    expect(items.map((p) => p.productId)).toEqual(['a', 'b', 'c', 'd', 'e'].map((k) => ids[k]));
    expect(items[0]).not.toHaveProperty('PK');
    expect(items[0]).not.toHaveProperty('GSI1_SK');
    expect(items[0]).not.toHaveProperty('changeVersion');
  });

  test('price range is inclusive and pages within the range', async () => {
    const { items } = await listAll({ minPrice: '10.5', maxPrice: '30', limit: '1' });
    expect(items.map((p) => p.price)).toEqual([10.5, 20, 30]);
  });

  test('a token from one range is refused by another', async () => {
    const first = parse(await f.read({ method: 'GET', query: { minPrice: '10', limit: '1' } }));
    expect(first.nextToken).toBeDefined();
    const res = await f.read({ method: 'GET', query: { minPrice: '0', limit: '1', nextToken: first.nextToken } });
    expect(res.statusCode).toBe(400);
  });

  test('name filter is exact and case-insensitive, and pages', async () => {
    const { items } = await listAll({ name: 'widget', limit: '1' });
    expect(items.map((p) => p.productId).sort()).toEqual([ids.a, ids.c].sort());
    expect(parse(await f.read({ method: 'GET', query: { name: 'Widg' } })).items).toEqual([]);
    const byName = parse(await f.read({ method: 'GET', query: { name: 'gizmo', limit: '1' } }));
    expect(byName.items.map((p: any) => p.productId)).toEqual([ids.e]);
  });

  test('a name token is refused by a price query', async () => {
    const first = parse(await f.read({ method: 'GET', query: { name: 'widget', limit: '1' } }));
    expect(first.nextToken).toBeDefined();
    expect((await f.read({ method: 'GET', query: { nextToken: first.nextToken } })).statusCode).toBe(400);
    expect((await f.read({ method: 'GET', query: { name: 'gizmo', nextToken: first.nextToken } })).statusCode).toBe(400);
  });

  test('a name query pages with the longest name allowed (200 emoji: the largest token)', async () => {
    const name = '\u{1F375}'.repeat(200);
    const longIds = [randomUUID(), randomUUID()];
    const records = longIds.map((productId, i) => recordFor(changeEnvelope({ eventType: 'ProductCreated', productId, acceptedAt: 9_000 + i, product: { name, price: 50, currency: 'USD' } })));
    expect((await f.apply({ Records: records })).batchItemFailures).toEqual([]);
    const { items, pages } = await listAll({ name, limit: '1' });
    expect(pages).toBeGreaterThanOrEqual(2);
    expect(items.map((p) => p.productId).sort()).toEqual([...longIds].sort());
    const token = parse(await f.read({ method: 'GET', query: { name, limit: '1' } })).nextToken as string;
    expect(token.length).toBeGreaterThan(2048); // the old 2048-character cap refused it
  });

  describe('nextToken is tamper-evident', () => {
    // A genuine token after the first two products by price (Widget 5, Gadget 10.5).
    let genuine: string;
    let payload: string;
    let mac: string;
    let value: { k: Record<string, string>; f: string };
    beforeAll(async () => {
      const first = parse(await f.read({ method: 'GET', query: { limit: '2' } }));
      genuine = first.nextToken;
      [payload, mac] = genuine.split('.');
      value = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      expect(value.k).toMatchObject({ PK: `PRODUCT#${ids.b}`, GSI1_SK: `000000001050#${ids.b}` });
    });

    const reEncoded = (v: unknown) => Buffer.from(JSON.stringify(v), 'utf8').toString('base64url');
    const expect400 = async (nextToken: string) => {
      const res = await f.read({ method: 'GET', query: { limit: '2', nextToken } });
      expect(res.statusCode).toBe(400);
      const body = parse(res);
      expect(body.error.message).toContain('nextToken');
      expect(body.error.correlationId).toBe(res.headers?.['x-correlation-id']);
    };

    test('the genuine token pages on from where the first page stopped', async () => {
      const second = parse(await f.read({ method: 'GET', query: { limit: '2', nextToken: genuine } }));
      expect(second.items.map((p: any) => p.productId)).toEqual([ids.c, ids.d]);
    });

    test('the price key moved by a cent → 400', async () => {
      const moved = { ...value, k: { ...value.k, GSI1_SK: `000000001051#${ids.b}` } };
      await expect400(`${reEncoded(moved)}.${mac}`);
    });

    test("another product's id → 400", async () => {
      const other = { ...value, k: { ...value.k, PK: `PRODUCT#${ids.d}`, GSI1_SK: `000000003000#${ids.d}` } };
      await expect400(`${reEncoded(other)}.${mac}`);
    });

    test('truncated → 400', async () => {
      await expect400(genuine.slice(0, -1));
      await expect400(genuine.slice(0, genuine.indexOf('.')));
      await expect400(genuine.slice(1));
    });

    test('re-encoded (same JSON, other spelling) → 400', async () => {
      const standardBase64 = Buffer.from(payload, 'base64url').toString('base64');
      await expect400(`${standardBase64}.${mac}`);
      await expect400(`${reEncoded(JSON.parse(JSON.stringify({ f: value.f, k: value.k })))}.${mac}`);
      // The mac's last character carries 2 unused bits: a non-canonical spelling (same
      // bytes, low bit flipped) is refused.
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const index = alphabet.indexOf(mac[mac.length - 1]);
      const sibling = alphabet[index % 2 === 0 ? index + 1 : index - 1];
      expect(Buffer.from(`${mac.slice(0, -1)}${sibling}`, 'base64url')).toEqual(Buffer.from(mac, 'base64url'));
      await expect400(`${payload}.${mac.slice(0, -1)}${sibling}`);
    });

    test('a mac copied from another genuine token → 400', async () => {
      const other = parse(await f.read({ method: 'GET', query: { limit: '1' } })).nextToken as string;
      expect(other.split('.')[1]).not.toBe(mac);
      await expect400(`${payload}.${other.split('.')[1]}`);
    });

    test('the key is read from the secret once per container, not per request', async () => {
      const before = f.secrets.reads();
      for (let i = 0; i < 3; i++) await f.read({ method: 'GET', query: { limit: '2', nextToken: genuine } });
      expect(f.secrets.reads()).toBe(before);
      expect(before).toBe(1);
    });
  });
});
