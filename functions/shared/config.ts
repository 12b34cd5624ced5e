/** A handler started without a variable its construct must set: a deployment defect, not bad input. */
export class ConfigurationError extends Error {
  readonly name = 'ConfigurationError';
}

/**
 * Reads a handler's configuration once, at init, from the variable names its contract
 * lists (`lib/<service>/contract.ts`). A missing or empty variable fails the cold start
 * with its name, instead of becoming `''` and failing later with a confusing AWS error.
 */
export function readConfig<const Names extends readonly string[]>(
  names: Names,
  env: NodeJS.ProcessEnv = process.env,
): { readonly [N in Names[number]]: string } {
  const missing = names.filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new ConfigurationError(
      `Missing environment variable${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: ` +
      'the construct that created this function sets it; was the function changed by hand?',
    );
  }
  return Object.fromEntries(names.map((name) => [name, env[name]!])) as { readonly [N in Names[number]]: string };
}

/** A numeric setting from a config value, refused at init when it is not a number in range. */
export function numberSetting(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new ConfigurationError(`Environment variable ${name} must be a number from ${min} to ${max}, got '${value}'`);
  }
  return n;
}

/** A JSON-object setting (a construct's settings as JSON), refused at init when it is anything else. */
export function jsonObjectSetting<T = Record<string, unknown>>(name: string, value: string): Partial<T> {
  try {
    const parsed: unknown = JSON.parse(value);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Partial<T>;
  } catch { /* reported below */ }
  throw new ConfigurationError(`Environment variable ${name} must be a JSON object`);
}
