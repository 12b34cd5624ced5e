import { randomUUID } from 'node:crypto';
import { runtimeTables, type RuntimeTables } from './runtime-tables';
import {
  completeInvocation, getInvocation, invocationIdOfRequest, linkLambdaRequest, listInvocations, recordCallback, recordInvocation,
  type InvocationRecord,
} from '../../functions/lambda-runtime-service/invocation-audit';
import { ValidationError } from '../../functions/shared/errors';
import { AuditLayout, DEFAULT_RUNTIME_SETTINGS } from '../../lib/lambda-runtime-service/contract';

let seq = 0;
const fresh = () => `audited-${++seq}`;
const at = (second: number) => new Date(Date.UTC(2026, 10, 29, 10, 0, 0) + second * 1000).toISOString();

const invocation = (functionName: string, startedAt: string, extra: Partial<InvocationRecord> = {}): InvocationRecord => ({
  invocationId: randomUUID(),
  functionName,
  version: '3',
  mode: 'sync',
  startedAt,
  durationMs: 12,
  status: 'success',
  correlationId: 'corr-1',
  ...extra,
});

describe('invocation audit (DynamoDB Local)', () => {
  let t: RuntimeTables;
  beforeAll(async () => { t = await runtimeTables(); });
  afterAll(() => t.clients.ddb.destroy());

  test('one item per invocation, read back by id in one GetItem, with its TTL; a second record of the id changes nothing', async () => {
    const record = invocation(fresh(), at(0), { durationMs: 12.4 });
    expect(await recordInvocation(record, t.audit)).toBe(true);
    expect(await getInvocation(record.invocationId, t.audit)).toEqual({ ...record, durationMs: 12 });
    const raw = await t.rawAuditItem(`INVOCATION#${record.invocationId}`);
    expect(raw).toMatchObject({
      FN_PK: `FUNCTION#${record.functionName}`,
      FN_SK: `${record.startedAt}#${record.invocationId}`,
      ttl: Date.parse(record.startedAt) / 1000 + DEFAULT_RUNTIME_SETTINGS.auditRetentionSeconds,
    });
    expect(await recordInvocation({ ...record, status: 'error' }, t.audit)).toBe(false);
    expect((await getInvocation(record.invocationId, t.audit))!.status).toBe('success');
    expect(await getInvocation(randomUUID(), t.audit)).toBeUndefined();
  });

  test('an async invocation is pending until completed once; a redelivered result changes nothing', async () => {
    const pending = invocation(fresh(), at(1), { mode: 'async', status: 'pending', durationMs: undefined, version: undefined });
    await recordInvocation(pending, t.audit);
    expect(await getInvocation(pending.invocationId, t.audit)).toMatchObject({ status: 'pending', mode: 'async' });
    const done = await completeInvocation(pending.invocationId, {
      status: 'error', durationMs: 900, errorType: 'Error', errorMessage: 'boom', version: '4', finishedAt: at(2),
    }, t.audit);
    expect(done).toMatchObject({ status: 'error', durationMs: 900, errorType: 'Error', errorMessage: 'boom', version: '4', finishedAt: at(2), startedAt: at(1) });
    expect(done).not.toHaveProperty('PK');
    expect(await completeInvocation(pending.invocationId, { status: 'success', durationMs: 1 }, t.audit)).toBeUndefined();
    expect((await getInvocation(pending.invocationId, t.audit))!.status).toBe('error');
    expect(await completeInvocation(randomUUID(), { status: 'success' }, t.audit)).toBeUndefined();
    await expect(completeInvocation(pending.invocationId, { status: 'pending' }, t.audit)).rejects.toThrow(ValidationError);
  });

  test('an async request id is linked once: pointer (TTL of the audit) and requestId/callbackUrl on the pending item, in one transaction', async () => {
    const pending = invocation(fresh(), at(4), { mode: 'async', status: 'pending', durationMs: undefined, version: undefined });
    await recordInvocation(pending, t.audit);
    const requestId = randomUUID();
    const link = { invocationId: pending.invocationId, requestId, startedAt: pending.startedAt, callbackUrl: 'https://hooks.example.com/x' };
    expect(await linkLambdaRequest(link, t.audit)).toBe(true);
    expect(await invocationIdOfRequest(requestId, t.audit)).toBe(pending.invocationId);
    expect(await t.rawAuditItem(AuditLayout.requestPk(requestId))).toEqual({
      PK: AuditLayout.requestPk(requestId),
      invocationId: pending.invocationId,
      ttl: Date.parse(pending.startedAt) / 1000 + DEFAULT_RUNTIME_SETTINGS.auditRetentionSeconds,
    });
    expect(await getInvocation(pending.invocationId, t.audit)).toMatchObject({ status: 'pending', requestId, callbackUrl: link.callbackUrl });
    expect(await linkLambdaRequest(link, t.audit)).toBe(false); // a retried write: no-op
    expect(await invocationIdOfRequest(randomUUID(), t.audit)).toBeUndefined();

    // No pending item (never recorded): neither write happens.
    const orphan = randomUUID();
    await expect(linkLambdaRequest({ ...link, invocationId: randomUUID(), requestId: orphan }, t.audit)).rejects.toThrow(/cancel/i);
    expect(await invocationIdOfRequest(orphan, t.audit)).toBeUndefined();
  });

  test('callback state: attempts counted; once delivered it never changes', async () => {
    const record = invocation(fresh(), at(5), { mode: 'async' });
    await recordInvocation(record, t.audit);
    expect(await recordCallback(record.invocationId, 'retrying', t.audit, 'HTTP 503')).toBe(true);
    expect(await recordCallback(record.invocationId, 'delivered', t.audit)).toBe(true);
    expect(await recordCallback(record.invocationId, 'retrying', t.audit)).toBe(false);
    expect(await getInvocation(record.invocationId, t.audit)).toMatchObject({ callbackState: 'delivered', callbackAttempts: 2 });
    expect(await recordCallback(randomUUID(), 'delivered', t.audit)).toBe(false); // no item: nothing created
  });

  test('error text and correlation id are bounded (by characters, never splitting one)', async () => {
    const record = invocation(fresh(), at(3), {
      status: 'error', errorType: 'T'.repeat(300), errorMessage: '😀'.repeat(2000), correlationId: 'c'.repeat(500),
    });
    await recordInvocation(record, t.audit);
    const stored = await getInvocation(record.invocationId, t.audit);
    expect(stored!.errorType).toBe('T'.repeat(128));
    expect(stored!.errorMessage).toBe('😀'.repeat(1024));
    expect(stored!.correlationId).toHaveLength(128);
  });

  test('a function\'s invocations by time range [from, to), newest first, paged without gaps or repeats', async () => {
    const name = fresh();
    const other = fresh();
    const records = Array.from({ length: 25 }, (_, i) => invocation(name, at(100 + i), { status: i % 5 === 0 ? 'throttled' : 'success' }));
    // Two invocations in one millisecond: both kept (the id is in the sort key).
    records.push(invocation(name, at(110)));
    await Promise.all([...records, invocation(other, at(105)), invocation(other, at(106))].map((r) => recordInvocation(r, t.audit)));

    const collect = async (options: { from?: string; to?: string; oldestFirst?: boolean }) => {
      const seen: InvocationRecord[] = [];
      let nextToken: string | undefined;
      do {
        const page = await listInvocations(name, { ...options, limit: 4, nextToken }, t.audit);
        expect(page.invocations.length).toBeLessThanOrEqual(4);
        seen.push(...page.invocations);
        nextToken = page.nextToken;
      } while (nextToken);
      return seen;
    };
    const inRange = await collect({ from: at(105), to: at(115) });
    const expected = records.filter((r) => r.startedAt >= at(105) && r.startedAt < at(115));
    expect(expected).toHaveLength(11);
    expect(inRange.map((r) => r.invocationId).sort()).toEqual(expected.map((r) => r.invocationId).sort());
    expect(inRange.map((r) => r.startedAt)).toEqual([...inRange.map((r) => r.startedAt)].sort().reverse());
    expect(inRange.every((r) => r.functionName === name)).toBe(true);
    expect(inRange[0]).not.toHaveProperty('FN_PK');

    const oldest = await collect({ oldestFirst: true });
    expect(oldest).toHaveLength(26);
    expect(oldest[0].startedAt).toBe(at(100));
    expect((await listInvocations(other, {}, t.audit)).invocations).toHaveLength(2);

    const page = await listInvocations(name, { limit: 2 }, t.audit);
    await expect(listInvocations(other, { nextToken: page.nextToken }, t.audit)).rejects.toThrow(/^nextToken/);
    await expect(listInvocations(name, { from: at(5), to: at(5) }, t.audit)).rejects.toThrow(/before to/);
    await expect(listInvocations(name, { from: '2026-11-29' }, t.audit)).rejects.toThrow(/^from/);
    await expect(listInvocations(name, { limit: 0 }, t.audit)).rejects.toThrow(/^limit/);
  });

  test('hostile ids and fields are refused before any write', async () => {
    await expect(getInvocation('../x', t.audit)).rejects.toThrow(ValidationError);
    await expect(recordInvocation({ ...invocation(fresh(), at(0)), invocationId: 'a'.repeat(65) }, t.audit)).rejects.toThrow(/^invocationId/);
    await expect(recordInvocation({ ...invocation(fresh(), at(0)), status: 'exploded' as never }, t.audit)).rejects.toThrow(/^status/);
    await expect(recordInvocation({ ...invocation(fresh(), at(0)), startedAt: 'yesterday' }, t.audit)).rejects.toThrow(/^startedAt/);
    await expect(recordInvocation({ ...invocation('Not_A_Name', at(0)) }, t.audit)).rejects.toThrow(/^functionName/);
    await expect(recordInvocation({ ...invocation(fresh(), at(0)), durationMs: -1 }, t.audit)).rejects.toThrow(/^durationMs/);
  });
});
