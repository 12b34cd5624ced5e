import { search } from '../../functions/shared/jmespath-lite';

describe('the JMESPath stand-in in the handler bundles', () => {
  test('reads a field and a dotted path, as JMESPath does', () => {
    expect(search('eventId', { eventId: 'e-1', other: 1 })).toBe('e-1');
    expect(search('detail.eventId', { detail: { eventId: 'e-2' } })).toBe('e-2');
  });

  test('a missing field, or a path through a non-object, is null (JMESPath\'s answer), never an exception', () => {
    expect(search('eventId', {})).toBeNull();
    expect(search('detail.eventId', { detail: 'text' })).toBeNull();
    expect(search('detail.eventId', { detail: [{ eventId: 'x' }] })).toBeNull();
    expect(search('eventId', null)).toBeNull();
  });

  test.each(['eventId[0]', 'a || b', 'powertools_json(body).id', '*.id', "'literal'", ''])(
    'refuses an expression it cannot evaluate exactly: %s', (expression) => {
      expect(() => search(expression, { eventId: 'x' })).toThrow(/only dotted field paths/);
    });
});
