import { randomUUID } from 'node:crypto';
import { getHeader } from './headers';

// Bounded and printable, so a hostile header cannot bloat or corrupt logs and replies.
const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function safe(value: unknown): string | undefined {
  return typeof value === 'string' && SAFE_ID.test(value) ? value : undefined;
}

/** From HTTP headers (any case), else a new UUID. */
export function correlationIdFromHeaders(headers: Record<string, string | undefined> | null | undefined): string {
  return safe(getHeader(headers, 'x-correlation-id')) ?? randomUUID();
}

/** From an SQS record: message attribute `correlationId`, else the envelope's field, else new. */
export function correlationIdFromMessage(
  attributes: Record<string, { stringValue?: string } | undefined> | undefined,
  envelope?: { correlationId?: unknown },
): string {
  return safe(attributes?.correlationId?.stringValue) ?? safe(envelope?.correlationId) ?? randomUUID();
}
