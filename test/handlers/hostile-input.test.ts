import { ProductApiFixture, parse, setupProductApi, signToken } from './product-fixture';
import { receive } from '../harness/local-aws';

/** Malformed and hostile requests get a 4xx problem body, never a 5xx, and publish nothing. */
describe('hostile input', () => {
  let f: ProductApiFixture;
  const pageTokenSecret = 'hostile-input-page-token-secret-0123456789abcdef';
  beforeAll(async () => { f = await setupProductApi('hostile', { pageTokenSecret }); });

  const valid = { name: 'Teapot', price: 10, currency: 'GBP' };
  // Tokens with a genuine mac over a hostile payload: the checks behind the mac still hold.
  const token = (k: unknown, fp: string) => signToken({ pageTokenSecret }, { k, f: fp });
  const unsigned = (k: unknown, fp: string) => Buffer.from(JSON.stringify({ k, f: fp })).toString('base64url');
  const pid = '0b7f8c4e-2f7a-4c1e-9a55-3d2c1b0a9f8e';
  const priceKey = { PK: `PRODUCT#${pid}`, SK: 'METADATA', GSI1_PK: 'PRODUCT#ACTIVE', GSI1_SK: `000000001500#${pid}` };

  async function expectProblem(res: { statusCode: number; body: string; headers?: any }, status: number, field?: string) {
    expect(res.statusCode).toBe(status);
    const body = parse(res as any);
    expect(body).toEqual({ error: { code: expect.any(String), message: expect.any(String), correlationId: expect.any(String) } });
    expect(body.error.correlationId).toBe(res.headers['x-correlation-id']);
    expect(res.body).not.toMatch(/at .*\.js:\d+/); // no stack trace
    if (field) expect(body.error.message).toContain(field);
  }

  const badBodies: Array<[string, unknown, string?]> = [
    ['malformed JSON', '{"name": "x",', undefined],
    ['empty body', '', undefined],
    ['JSON null', 'null', undefined],
    ['JSON array', '[]', undefined],
    ['name of wrong type', { ...valid, name: 42 }, 'name'],
    ['price as string', { ...valid, price: '10' }, 'price'],
    ['missing price', { name: 'x', currency: 'GBP' }, 'price'],
    ['missing name', { price: 1, currency: 'GBP' }, 'name'],
    ['blank name', { ...valid, name: '   ' }, 'name'],
    ['name over 200 chars', { ...valid, name: 'n'.repeat(201) }, 'name'],
    ['description over 2000 chars', { ...valid, description: 'd'.repeat(2001) }, 'description'],
    ['negative price', { ...valid, price: -1 }, 'price'],
    ['absurd price', { ...valid, price: 1e12 }, 'price'],
    ['overflowing price', '{"name":"x","price":1e400,"currency":"GBP"}', 'price'],
    ['three decimals', { ...valid, price: 1.234 }, 'price'],
    ['lower-case currency', { ...valid, currency: 'gbp' }, 'currency'],
    ['long currency', { ...valid, currency: 'GBPX' }, 'currency'],
    ['unknown field', { ...valid, isAdmin: true }, 'isAdmin'],
    ['prototype pollution', '{"name":"x","price":1,"currency":"GBP","__proto__":{"admin":true}}', undefined],
    // Control characters and unpaired surrogates: stored, they poison the writer (DynamoDB
    // refuses a lone surrogate after the 202) and the audit trail.
    ['NUL in the name', { ...valid, name: 'Tea\u0000pot' }, 'name'],
    ['ESC in the name', { ...valid, name: '\u001b[31mTeapot' }, 'name'],
    ['DEL in the name', { ...valid, name: 'Teapot\u007f' }, 'name'],
    ['C1 control in the name', { ...valid, name: 'Tea\u0085pot' }, 'name'],
    ['line feed in the name', { ...valid, name: 'Tea\npot' }, 'name'],
    ['lone high surrogate in the name', { ...valid, name: 'Tea\ud800pot' }, 'name'],
    ['lone low surrogate in the name', { ...valid, name: '\udc00Teapot' }, 'name'],
    ['surrogate pair reversed in the name', { ...valid, name: 'Tea\ude00\ud83dpot' }, 'name'],
    ['lone surrogate as raw JSON escape', '{"name":"Tea\\ud800","price":1,"currency":"GBP"}', 'name'],
    ['NUL in the description', { ...valid, description: 'Fine\u0000china' }, 'description'],
    ['ESC in the description', { ...valid, description: 'Fine \u001b[2J china' }, 'description'],
    ['DEL in the description', { ...valid, description: 'Fine china\u007f' }, 'description'],
    ['lone surrogate in the description', { ...valid, description: 'Fine \ud83d china' }, 'description'],
    ['name of 201 emoji', { ...valid, name: '\u{1F375}'.repeat(201) }, 'name'],
    ['blank name of Unicode spaces', { ...valid, name: '\u00a0\u3000\u2003' }, 'name'],
  ];

  test.each(badBodies)('POST with %s → 400', async (_label, body, field) => {
    await expectProblem(await f.accept({ method: 'POST', body }) as any, 400, field);
  });

  test('a control character is named with its code point and position', async () => {
    const res = await f.accept({ method: 'POST', body: { ...valid, name: 'Tea\u001bpot' } });
    expect(parse(res).error.message).toBe("Invalid body field 'name': must not contain control characters (U+001B at character 4)");
    const surrogate = await f.accept({ method: 'POST', body: { ...valid, description: '\u{1F375} \ud800' } });
    expect(parse(surrogate).error.message).toBe("Invalid body field 'description': must not contain an unpaired surrogate (U+D800 at character 3)");
  });

  test('PUT with a control character in the name on a well-formed id → 400', async () => {
    await expectProblem(await f.accept({ method: 'PUT', productId: pid, body: { ...valid, name: 'Tea\u0000' } }) as any, 400, 'name');
  });

  test('PUT with a bad body on a well-formed id → 400', async () => {
    await expectProblem(await f.accept({ method: 'PUT', productId: pid, body: { ...valid, price: -5 } }) as any, 400, 'price');
  });

  test('body over 16 KB → 413', async () => {
    await expectProblem(await f.accept({ method: 'POST', body: { ...valid, description: 'x'.repeat(17 * 1024) } }) as any, 413);
  });

  const oddIds = ['../x', '%00', '\u0000', 'a'.repeat(300), 'not-a-uuid', `${pid}/../../x`, ' ', "' OR 1=1 --"];
  test.each(oddIds.map((id) => [JSON.stringify(id).slice(0, 40), id]))('path id %s → 400 on GET, PUT and DELETE', async (_label, id) => {
    await expectProblem(await f.read({ method: 'GET', productId: id }) as any, 400, 'productId');
    await expectProblem(await f.accept({ method: 'PUT', productId: id, body: valid }) as any, 400, 'productId');
    await expectProblem(await f.accept({ method: 'DELETE', productId: id }) as any, 400, 'productId');
  });

  test('unknown product → 404 on GET, PUT and DELETE', async () => {
    await expectProblem(await f.read({ method: 'GET', productId: pid }) as any, 404);
    await expectProblem(await f.accept({ method: 'PUT', productId: pid, body: valid }) as any, 404);
    await expectProblem(await f.accept({ method: 'DELETE', productId: pid }) as any, 404);
  });

  test('unsupported method → 405', async () => {
    await expectProblem(await f.accept({ method: 'PATCH', productId: pid, body: valid }) as any, 405);
    await expectProblem(await f.accept({ method: 'GET', body: valid }) as any, 405);
  });

  const badQueries: Array<[string, Record<string, string>, string?]> = [
    ['limit 0', { limit: '0' }, 'limit'],
    ['limit 101', { limit: '101' }, 'limit'],
    ['limit not a number', { limit: 'ten' }, 'limit'],
    ['negative minPrice', { minPrice: '-1' }, 'minPrice'],
    ['minPrice above maxPrice', { minPrice: '20', maxPrice: '10' }, 'minPrice'],
    ['maxPrice with 3 decimals', { maxPrice: '1.001' }, 'maxPrice'],
    ['name with price range', { name: 'teapot', minPrice: '1' }, 'name'],
    ['garbage token', { nextToken: '!!!not-base64!!!' }, 'nextToken'],
    ['token that is not JSON', { nextToken: Buffer.from('hello').toString('base64url') }, 'nextToken'],
    ['token from another price range', { minPrice: '10', nextToken: token(priceKey, 'price:0:100000000') }, 'nextToken'],
    ['token whose key is outside the range', { minPrice: '20', nextToken: token(priceKey, 'price:2000:100000000') }, 'nextToken'],
    ['token for another partition', { nextToken: token({ ...priceKey, GSI1_PK: 'PRODUCT#DELETED' }, 'price:0:100000000') }, 'nextToken'],
    ['token with an extra attribute', { nextToken: token({ ...priceKey, status: 'DELETED' }, 'price:0:100000000') }, 'nextToken'],
    ['token with a missing attribute', { nextToken: token({ PK: priceKey.PK, SK: 'METADATA' }, 'price:0:100000000') }, 'nextToken'],
    ['token with a non-string key', { nextToken: token({ ...priceKey, SK: { S: 'METADATA' } }, 'price:0:100000000') }, 'nextToken'],
    ['token for another name', { name: 'teapot', nextToken: token({ PK: priceKey.PK, SK: 'METADATA', GSI2_PK: 'NAME#secret' }, 'name:NAME#secret') }, 'nextToken'],
    ['price token on a name query', { name: 'teapot', nextToken: token(priceKey, 'price:0:100000000') }, 'nextToken'],
    ['unsigned token (the old format)', { nextToken: unsigned(priceKey, 'price:0:100000000') }, 'nextToken'],
    ['token signed with another key', { nextToken: signToken({ pageTokenSecret: 'another-secret-0123456789abcdef-0123' }, { k: priceKey, f: 'price:0:100000000' }) }, 'nextToken'],
    ['token with an empty mac', { nextToken: `${unsigned(priceKey, 'price:0:100000000')}.` }, 'nextToken'],
    ['name query with a control character', { name: 'tea\u001bpot' }, 'name'],
    ['name query with a lone surrogate', { name: 'tea\ud800' }, 'name'],
  ];

  test.each(badQueries)('list with %s → 400', async (_label, query, field) => {
    await expectProblem(await f.read({ method: 'GET', query }) as any, 400, field);
  });

  test('a signed, well-formed token for this very query is accepted', async () => {
    const res = await f.read({ method: 'GET', query: { nextToken: token(priceKey, 'price:0:100000000') } });
    expect(res.statusCode).toBe(200);
  });

  test('a correlation id header is echoed; a hostile one is replaced', async () => {
    const echoed = await f.accept({ method: 'POST', body: '{', headers: { 'x-correlation-id': 'abc-123' } });
    expect(parse(echoed).error.correlationId).toBe('abc-123');
    const replaced = await f.accept({ method: 'POST', body: '{', headers: { 'x-correlation-id': '<script>'.repeat(50) } });
    expect(parse(replaced).error.correlationId).toMatch(/^[0-9a-f-]{36}$/);
  });

  afterAll(async () => {
    await f?.stop();
    // Nothing above was valid, so nothing may have been published.
    expect(await receive(f.clients.sqs, f.writer.url, 10, 1)).toEqual([]);
    expect(await receive(f.clients.sqs, f.audit.url, 10, 1)).toEqual([]);
  });
});
