import { actionsByFunction } from './role-actions';
import { ENVIRONMENTS, environmentResources } from './template-walk';

/**
 * The composed example app, every role at once. Each construct's test holds the reviewed
 * allow-list of its functions (exact actions, exact resources); this sweep makes sure no
 * role of any environment gains a broad action, whatever the composition.
 */
describe('least privilege across the example app', () => {
  test.each(ENVIRONMENTS)('%s: no role has a wildcard action, Scan, BatchWriteItem, kms:Encrypt or kms:ReEncrypt*', (name) => {
    const actions = actionsByFunction(environmentResources(name));
    expect(Object.keys(actions).length).toBeGreaterThanOrEqual(24);
    const forbidden = /\*|dynamodb:Scan|dynamodb:BatchWriteItem|kms:Encrypt|kms:ReEncrypt/;
    expect(Object.entries(actions).flatMap(([fn, list]) => list.filter((a) => forbidden.test(a)).map((a) => `${fn}: ${a}`))).toEqual([]);
  });
});
