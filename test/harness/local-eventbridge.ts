import { randomUUID } from 'node:crypto';
import { AwsJsonError, LocalJsonEndpoint, startJsonEndpoint } from './local-json-endpoint';

export interface PutEventsEntry {
  readonly EventBusName?: string;
  readonly Source?: string;
  readonly DetailType?: string;
  readonly Detail?: string;
}

/**
 * EventBridge's PutEvents on the AWS JSON 1.1 wire protocol. EventBridge has no local
 * engine on npm, so the calls of the real handler bundle are captured here, at the network
 * boundary, with per-entry and whole-request failures on demand.
 */
export interface LocalEventBridge extends LocalJsonEndpoint {
  /** Entries accepted, in arrival order, with the id given to each. */
  readonly accepted: Array<PutEventsEntry & { readonly EventId: string }>;
  /** Refuses matching entries (per-entry ErrorCode) on their next `times` attempts. */
  failEntries(match: (entry: PutEventsEntry) => boolean, times: number, errorCode?: string): void;
  /** Fails the next `times` requests as a whole (HTTP 500). */
  failRequests(times: number): void;
  /** The detail of every accepted entry, parsed. */
  details(): any[];
}

export async function startLocalEventBridge(): Promise<LocalEventBridge> {
  const accepted: Array<PutEventsEntry & { EventId: string }> = [];
  const entryFailures: Array<{ match: (e: PutEventsEntry) => boolean; left: number; errorCode: string }> = [];
  let requestFailures = 0;
  const endpoint = await startJsonEndpoint({
    'AWSEvents.PutEvents': ({ Entries }: { Entries: PutEventsEntry[] }) => {
      if (requestFailures > 0) {
        requestFailures--;
        throw new AwsJsonError('InternalException', 'Injected failure of the whole request', 500);
      }
      if (!Array.isArray(Entries) || Entries.length < 1 || Entries.length > 10) {
        throw new AwsJsonError('ValidationException', `Entries must hold 1 to 10 entries, got ${Entries?.length}`);
      }
      const results = Entries.map((entry) => {
        const failure = entryFailures.find((f) => f.left > 0 && f.match(entry));
        if (failure) {
          failure.left--;
          return { ErrorCode: failure.errorCode, ErrorMessage: 'Injected entry failure' };
        }
        const EventId = randomUUID();
        accepted.push({ ...entry, EventId });
        return { EventId };
      });
      return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
    },
  });
  return {
    ...endpoint,
    accepted,
    failEntries: (match, times, errorCode = 'InternalFailure') => { entryFailures.push({ match, left: times, errorCode }); },
    failRequests: (times) => { requestFailures = times; },
    details: () => accepted.map((e) => JSON.parse(e.Detail ?? 'null')),
  };
}
