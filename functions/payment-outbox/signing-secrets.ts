/**
 * The webhook's signing secrets. The secret holds JSON `{ "current": "...", "previous": "..." }`
 * (`previous` only during a rotation) or, for a secret brought in by the user, one plain
 * string. Both listed values are accepted, so deliveries signed before a rotation still pass.
 */
export function parseSigningSecrets(secretString: string | undefined): string[] {
  if (!secretString) throw new Error('The signing secret is empty');
  if (!secretString.trimStart().startsWith('{')) return [secretString];
  const parsed = JSON.parse(secretString) as { current?: unknown; previous?: unknown };
  const secrets = [parsed.current, parsed.previous].filter((s): s is string => typeof s === 'string' && s.length > 0);
  if (typeof parsed.current !== 'string' || secrets.length === 0) {
    throw new Error('The signing secret must be JSON { "current": "...", "previous"?: "..." } or a plain string');
  }
  return secrets;
}

export interface SecretCacheOptions {
  /** Reads the secret string; `force` bypasses any cache below. */
  readonly fetch: (force: boolean) => Promise<string | undefined>;
  /**
   * A signature that matches no cached secret may mean the secret was just rotated: it is
   * fetched again, but at most once per this many ms, so bad requests cannot turn into a
   * Secrets Manager call each.
   */
  readonly minRefetchIntervalMs: number;
  readonly now?: () => number;
}

/** Cached signing secrets with a rate-limited refetch for rotations. */
export class SigningSecretCache {
  private lastForcedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: SecretCacheOptions) {}

  async get(): Promise<string[]> {
    return parseSigningSecrets(await this.options.fetch(false));
  }

  /** Fresh secrets if a refetch is allowed now, else undefined. */
  async refetch(): Promise<string[] | undefined> {
    const now = (this.options.now ?? Date.now)();
    if (now - this.lastForcedAt < this.options.minRefetchIntervalMs) return undefined;
    this.lastForcedAt = now;
    return parseSigningSecrets(await this.options.fetch(true));
  }
}
