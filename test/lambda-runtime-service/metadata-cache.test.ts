import { runtimeTables, type RuntimeTables } from './runtime-tables';
import { MetadataCache } from '../../functions/lambda-runtime-service/metadata-cache';
import { getFunction, registerFunction, updateFunction } from '../../functions/lambda-runtime-service/registry-store';
import type { FunctionRecord } from '../../lib/lambda-runtime-service/contract';

let seq = 0;
const fresh = () => `cached-${++seq}`;
const TTL_MS = 10_000;

describe('metadata cache over the registry (DynamoDB Local)', () => {
  let t: RuntimeTables;
  let loads: string[];
  /** A container's cache: loads read the registry, on the shared clock. */
  const containerCache = (options: { negativeTtlMs?: number; maxEntries?: number } = {}) => new MetadataCache<FunctionRecord>({
    load: (name) => { loads.push(name); return getFunction(name, t.registry); },
    ttlMs: TTL_MS,
    nowMs: () => t.clock.ms,
    ...options,
  });
  beforeAll(async () => { t = await runtimeTables(); });
  beforeEach(() => { loads = []; });
  afterAll(() => t.clients.ddb.destroy());

  test('an update made elsewhere is served stale for at most the TTL, then read fresh; hits and misses counted', async () => {
    const name = fresh();
    await registerFunction({ name, runtime: 'nodejs24.x', memoryMb: 128 }, t.registry);
    const cache = containerCache();
    expect((await cache.get(name))!.memoryMb).toBe(128); // miss
    await updateFunction(name, { memoryMb: 256 }, 1, t.registry); // another container: no invalidation here
    t.advance(TTL_MS / 1000 - 0.001);
    expect(await cache.get(name)).toMatchObject({ memoryMb: 128, version: 1 }); // stale, within its TTL
    t.advance(0.001);
    expect(await cache.get(name)).toMatchObject({ memoryMb: 256, version: 2 }); // TTL over: read again
    expect(await cache.get(name)).toMatchObject({ version: 2 });
    expect(loads).toEqual([name, name]);
    expect(cache.stats()).toEqual({ hits: 2, misses: 2, hitRate: 0.5 });
    expect(cache.takeStats()).toEqual({ hits: 2, misses: 2, hitRate: 0.5 });
    expect(cache.stats()).toEqual({ hits: 0, misses: 0, hitRate: 0 });
  });

  test('never serves an entry after an explicit invalidation, not even one whose load was in flight', async () => {
    const name = fresh();
    await registerFunction({ name, runtime: 'nodejs24.x' }, t.registry);
    const cache = containerCache();
    await cache.get(name);
    await updateFunction(name, { timeoutSeconds: 9 }, 1, t.registry);
    cache.invalidate(name); // this container made the update
    expect(await cache.get(name)).toMatchObject({ version: 2, timeoutSeconds: 9 }); // no clock move needed

    // A load that read version 2, still in flight when version 3 is written and invalidated.
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    let reads = 0;
    const slow = new MetadataCache<FunctionRecord>({
      load: async (key) => { const record = await getFunction(key, t.registry); reads++; if (reads === 1) await gate; return record; },
      ttlMs: TTL_MS,
      nowMs: () => t.clock.ms,
    });
    const overlapping = slow.get(name);
    while (reads === 0) await new Promise((r) => setTimeout(r, 5));
    await updateFunction(name, { timeoutSeconds: 10 }, 2, t.registry);
    slow.invalidate(name);
    const after = slow.get(name); // started after the invalidation: must not get the in-flight version 2
    release();
    expect((await overlapping)!.version).toBe(2); // a call that overlapped the invalidation may see either
    expect(await after).toMatchObject({ version: 3, timeoutSeconds: 10 });
    expect(await slow.get(name)).toMatchObject({ version: 3 }); // and version 2 was not stored by the late load
    expect(slow.stats()).toEqual({ hits: 1, misses: 2, hitRate: 1 / 3 });
  });

  test('set() after a write in this container replaces the entry at once', async () => {
    const name = fresh();
    await registerFunction({ name, runtime: 'nodejs24.x' }, t.registry);
    const cache = containerCache();
    await cache.get(name);
    const updated = await updateFunction(name, { memoryMb: 512 }, 1, t.registry);
    cache.set(name, updated);
    expect(await cache.get(name)).toEqual(updated);
    expect(loads).toEqual([name]);
  });

  test('concurrent misses of one name share one registry read; a failed load is not kept', async () => {
    const name = fresh();
    await registerFunction({ name, runtime: 'nodejs24.x' }, t.registry);
    const cache = containerCache();
    const results = await Promise.all(Array.from({ length: 20 }, () => cache.get(name)));
    expect(new Set(results.map((r) => r!.name))).toEqual(new Set([name]));
    expect(loads).toEqual([name]);
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 20 });
    expect(await cache.get(name)).toBeDefined();
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 20 });

    let fail = true;
    const flaky = new MetadataCache<string>({
      load: async () => { if (fail) throw new Error('registry unavailable'); return 'ok'; },
      ttlMs: TTL_MS,
      nowMs: () => t.clock.ms,
    });
    await expect(flaky.get('x')).rejects.toThrow('registry unavailable');
    fail = false;
    expect(await flaky.get('x')).toBe('ok');
  });

  test('"not found" is remembered for the negative TTL only (0: not at all)', async () => {
    const name = fresh();
    const remembering = containerCache({ negativeTtlMs: 2_000 });
    const forgetting = containerCache();
    expect(await remembering.get(name)).toBeUndefined();
    expect(await forgetting.get(name)).toBeUndefined();
    await registerFunction({ name, runtime: 'nodejs24.x' }, t.registry);
    expect(await forgetting.get(name)).toMatchObject({ name });
    expect(await remembering.get(name)).toBeUndefined();
    t.advance(2);
    expect(await remembering.get(name)).toMatchObject({ name });
  });

  test('holds at most maxEntries, dropping the oldest', async () => {
    const names = [fresh(), fresh(), fresh()];
    for (const name of names) await registerFunction({ name, runtime: 'nodejs24.x' }, t.registry);
    const cache = containerCache({ maxEntries: 2 });
    for (const name of names) await cache.get(name);
    expect(cache.size).toBe(2);
    loads = [];
    await cache.get(names[2]);
    await cache.get(names[1]);
    await cache.get(names[0]);
    expect(loads).toEqual([names[0]]);
  });
});
