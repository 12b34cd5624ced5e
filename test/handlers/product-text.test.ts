import { ProductApiFixture, deliverAll, parse, setupProductApi } from './product-fixture';

/**
 * The other side of the text rules: real-world names and descriptions (accents, CJK, emoji,
 * right-to-left scripts, multi-line descriptions) are accepted, applied and read back
 * unchanged, except that a name is trimmed.
 */
describe('product text: valid Unicode is kept', () => {
  let f: ProductApiFixture;
  beforeAll(async () => { f = await setupProductApi('text'); });
  afterAll(async () => { await f?.stop(); });

  const cases: Array<[string, { name: string; description?: string }, string]> = [
    ['accents', { name: 'Crème brûlée dish', description: 'Façade, naïve, Ærø' }, 'Crème brûlée dish'],
    ['CJK', { name: '茶壶 急須 찻주전자', description: '景德镇瓷器' }, '茶壶 急須 찻주전자'],
    ['emoji and ZWJ sequences', { name: 'Tea \u{1F375} set \u{1F468}\u200D\u{1F469}\u200D\u{1F467}', description: '\u{1F600}' }, 'Tea \u{1F375} set \u{1F468}\u200D\u{1F469}\u200D\u{1F467}'],
    ['right-to-left', { name: 'إبريق شاي', description: 'קומקום' }, 'إبريق شاي'],
    ['multi-line description with tabs', { name: 'Teapot', description: 'Line one\nLine two\r\n\tindented' }, 'Teapot'],
    ['surrounding Unicode spaces trimmed', { name: '\u00a0 Teapot \u3000', description: '  kept as sent  ' }, 'Teapot'],
    ['200 emoji (200 characters, 400 UTF-16 units)', { name: '\u{1F375}'.repeat(200) }, '\u{1F375}'.repeat(200)],
  ];

  test.each(cases)('%s: 202, applied, read back', async (_label, text, storedName) => {
    const res = await f.accept({ method: 'POST', body: { ...text, price: 19.99, currency: 'EUR' } });
    expect(res.statusCode).toBe(202);
    const { productId } = parse(res);
    await deliverAll(f, 1);
    const got = await f.read({ method: 'GET', productId });
    expect(got.statusCode).toBe(200);
    const product = parse(got);
    expect(product.name).toBe(storedName);
    expect(product.description).toBe(text.description);
    expect(product.price).toBe(19.99);
  });
});
