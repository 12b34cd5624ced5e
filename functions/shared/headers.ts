type Headers = Record<string, string | undefined> | null | undefined;

/** A header's value by name, whatever case the client (or API Gateway) gave it. */
export function getHeader(headers: Headers, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}
