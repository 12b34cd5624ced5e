import { createHash } from 'node:crypto';

/**
 * A UUID derived from a name (version-5 layout over SHA-256, RFC 4122 variant). A fact
 * recorded once gets the same event id however often a retried step re-emits it, so
 * consumers dedupe the re-emissions.
 */
export function deterministicUuid(name: string): string {
  const bytes = createHash('sha256').update(name, 'utf8').digest().subarray(0, 16);
  /* eslint-disable no-bitwise -- the UUID version and variant are bit fields */
  bytes[6] = (bytes[6] & 0x0f) | 0x50; // version 5
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
  /* eslint-enable no-bitwise */
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
