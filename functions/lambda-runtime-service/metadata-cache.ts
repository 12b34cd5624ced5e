/**
 * Cache-aside of function metadata in the container's memory (the plan's Redis cache, without a
 * network hop): `get` serves an entry younger than its TTL, otherwise loads it (concurrent misses
 * of one key share one load) and keeps it.
 *
 * Invalidation: `invalidate(name)` (or `set(name, record)` after a write) in this container drops
 * the entry AND any load in flight, so no `get` that starts after it is served data read before it.
 * A registry update or deploy handled by this container calls it. Other containers cannot be told
 * (Lambda containers share nothing and take no pushes): they serve their entry until its TTL runs
 * out, so the TTL (`metadataCacheTtlSeconds`) is the bound on staleness elsewhere. Whatever must
 * never be stale is not decided from the cache: the invoke path calls the `live` alias (moved by
 * deploys) and takes the rate limit from DynamoDB; the cache holds what may lag a few seconds
 * (existence, limits, timeout).
 */

export interface MetadataCacheOptions<V> {
  /** Reads the value from the source of truth (undefined: it does not exist). */
  readonly load: (key: string) => Promise<V | undefined>;
  readonly ttlMs: number;
  /** How long "does not exist" is remembered (0: not at all). */
  readonly negativeTtlMs?: number;
  /** Most entries kept; the oldest entry goes first. */
  readonly maxEntries?: number;
  /** Milliseconds (injected in tests). */
  readonly nowMs?: () => number;
}

export interface CacheStats {
  readonly hits: number;
  readonly misses: number;
  /** hits / (hits + misses), 0 without lookups. */
  readonly hitRate: number;
}

interface Entry<V> { readonly value: V | undefined; readonly expiresAt: number }

export class MetadataCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly loading = new Map<string, Promise<V | undefined>>();
  private hits = 0;
  private misses = 0;
  private readonly nowMs: () => number;
  private readonly maxEntries: number;

  constructor(private readonly options: MetadataCacheOptions<V>) {
    this.nowMs = options.nowMs ?? Date.now;
    this.maxEntries = options.maxEntries ?? 1000;
  }

  async get(key: string): Promise<V | undefined> {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt > this.nowMs()) {
      this.hits++;
      return entry.value;
    }
    this.misses++;
    if (entry) this.entries.delete(key);
    const inFlight = this.loading.get(key);
    if (inFlight) return inFlight;
    const load = this.options.load(key).then((value) => {
      // Kept only if nothing invalidated or replaced the key while it loaded.
      if (this.loading.get(key) === load) {
        this.loading.delete(key);
        this.store(key, value);
      }
      return value;
    }, (error: unknown) => {
      if (this.loading.get(key) === load) this.loading.delete(key);
      throw error;
    });
    this.loading.set(key, load);
    return load;
  }

  /** Drops the key's entry and any load in flight: the next `get` reads the source. */
  invalidate(key: string): void {
    this.entries.delete(key);
    this.loading.delete(key);
  }

  /** Write-through after this container changed the key (an update's returned record). */
  set(key: string, value: V | undefined): void {
    this.loading.delete(key);
    this.entries.delete(key);
    this.store(key, value);
  }

  stats(): CacheStats {
    const total = this.hits + this.misses;
    return { hits: this.hits, misses: this.misses, hitRate: total === 0 ? 0 : this.hits / total };
  }

  /** The counters since the last call, reset (one metric per invocation adds up across containers). */
  takeStats(): CacheStats {
    const stats = this.stats();
    this.hits = 0;
    this.misses = 0;
    return stats;
  }

  get size(): number {
    return this.entries.size;
  }

  private store(key: string, value: V | undefined): void {
    const ttl = value === undefined ? this.options.negativeTtlMs ?? 0 : this.options.ttlMs;
    if (ttl <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: this.nowMs() + ttl });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }
}
