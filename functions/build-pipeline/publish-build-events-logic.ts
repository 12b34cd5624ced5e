/**
 * The jobs table's stream as events: the job item's status write is the fact (a transactional
 * outbox without an outbox item), and this turns each real status change into one envelope.
 * Plain functions over unmarshalled items; the handler does the AWS parts.
 */
import {
  BUILD_EVENT_SOURCE, BUILD_JOBS_TABLE_SCHEMA as S, BuildEvents, BuildJobStatus,
  type BuildEventPayload, type BuildEventType, type BuildJobStatusValue,
} from '../../lib/build-pipeline/contract';
import { deterministicUuid } from '../shared/deterministic-id';
import type { EventEnvelope } from '../shared/envelope';

export type BuildEventEnvelope = EventEnvelope<BuildEventPayload>;

/** A stream record as the logic sees it: the change kind and both images, unmarshalled. */
export interface JobChange {
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE' | undefined;
  readonly oldImage?: Record<string, unknown>;
  readonly newImage?: Record<string, unknown>;
}

/** The job item's sort key; delivery-log items share the partition with `DELIVERY#…`. */
export const JOB_SORT_KEY = 'JOB';

/** The event of entering a status. `awaiting_upload` is where a job starts (INSERT): no event. */
const EVENT_OF: Partial<Record<BuildJobStatusValue, BuildEventType>> = {
  [BuildJobStatus.QUEUED]: BuildEvents.QUEUED,
  [BuildJobStatus.BUILDING]: BuildEvents.STARTED,
  [BuildJobStatus.COMPLETED]: BuildEvents.COMPLETED,
  [BuildJobStatus.FAILED]: BuildEvents.FAILED,
};

/** A job item that changed status but cannot be turned into an event (a store bug or a hand edit). */
export class MalformedJobItemError extends Error {
  override readonly name: string = 'MalformedJobItemError';
}

const str = (item: Record<string, unknown>, field: string): string => {
  const v = item[field];
  if (typeof v !== 'string' || v.length === 0) throw new MalformedJobItemError(`job item field '${field}' is missing or not a string`);
  return v;
};

/**
 * The envelope of a stream record, or undefined when the record is not a status change of a
 * job: INSERTs (a new job is `awaiting_upload`), REMOVEs (TTL), delivery-log items, and
 * MODIFYs that keep the status (a lease takeover or hand-off, `webhookDisabled`).
 */
export function buildEventOf(change: JobChange): BuildEventEnvelope | undefined {
  const { eventName, oldImage, newImage } = change;
  if (eventName !== 'MODIFY' || !newImage || newImage[S.sortKey] !== JOB_SORT_KEY) return undefined;
  const status = newImage.status as BuildJobStatusValue;
  if (oldImage?.status === status) return undefined;
  const eventType = EVENT_OF[status];
  if (!eventType) throw new MalformedJobItemError(`job item status '${String(status)}' has no event`);
  const jobId = str(newImage, 'jobId');
  const updatedAt = str(newImage, 'updatedAt');
  const version = newImage.version;
  if (typeof version !== 'number') throw new MalformedJobItemError("job item field 'version' is not a number");
  // Only what a receiver may see: no webhookUrl, no lease owner or expiry, no index keys.
  const payload: BuildEventPayload = {
    jobId,
    functionName: str(newImage, 'functionName'),
    runtime: str(newImage, 'runtime'),
    handler: str(newImage, 'handler'),
    status,
    jobVersion: version,
    createdAt: str(newImage, 'createdAt'),
    updatedAt,
    ...(newImage.artifact ? { artifact: newImage.artifact as BuildEventPayload['artifact'] } : {}),
    ...(newImage.image ? { image: newImage.image as BuildEventPayload['image'] } : {}),
    ...(typeof newImage.failureReason === 'string' ? { failureReason: newImage.failureReason } : {}),
    ...(typeof newImage.failureMessage === 'string' ? { failureMessage: newImage.failureMessage } : {}),
  };
  return {
    // A status is entered once (statuses only move forward), so (jobId, status) names the fact:
    // a retried or re-processed stream record re-sends the same id and receivers dedupe on it.
    eventId: deterministicUuid(`build-pipeline:${jobId}:${status}`),
    eventType,
    correlationId: typeof newImage.correlationId === 'string' && newImage.correlationId ? newImage.correlationId : jobId,
    occurredAt: updatedAt,
    source: BUILD_EVENT_SOURCE,
    version: 1,
    payload,
  };
}

/** One event to publish, with the stream sequence number to report if it cannot be. */
