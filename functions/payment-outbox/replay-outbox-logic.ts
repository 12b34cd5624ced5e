import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { OUTBOX_POSITION } from './payment-items';
import { PAYMENTS_TABLE_SCHEMA } from '../../lib/payment-outbox/contract';
import type { EventEnvelope } from '../shared/envelope';
import { ValidationError } from '../shared/errors';
import type { EventSink } from '../shared/event-sink';
import { publishToSinks } from '../shared/publish-to-sinks';
import { validate } from '../shared/validation';

/** Longest window one request may replay (the outbox itself keeps 7 days by default). */
export const MAX_REPLAY_DAYS = 31;
const DAY_MS = 86_400_000;

export const replayRequestSchema = z.strictObject({
  from: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }),
  to: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }),
  /** From a previous answer with `complete: false`: go on after this outbox position. */
  resumeAfter: z.optional(z.string().check(z.regex(OUTBOX_POSITION, {
    message: 'must be the resumeAfter value an earlier replay of this window returned, unchanged (<ISO time>#<event id>)',
  }))),
});
export type ReplayRequest = z.infer<typeof replayRequestSchema>;

export interface ReplayServices {
  readonly db: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly sinks: ReadonlyArray<EventSink>;
  /** Stop and hand back a resume position when fewer ms than this are left. */
  readonly remainingTimeMs: () => number;
  readonly safetyMarginMs?: number;
  readonly pageSize?: number;
}

export interface ReplayResult {
  readonly replayed: number;
  readonly failed: ReadonlyArray<string>;
  readonly complete: boolean;
  readonly resumeAfter?: string;
}

const invalid = (field: string, problem: string) => new ValidationError(`Invalid replay request field '${field}': ${problem}`);

/**
 * Validates the request, naming the field in every error: ISO times, `from` before `to`,
 * at most {@link MAX_REPLAY_DAYS} apart; `resumeAfter` exactly as replay returns it (an
 * outbox position, a real time inside this window). A position is not secret: whoever
 * may invoke replay may equally ask for any window, so it is checked, not signed.
 */
export function parseReplayRequest(input: unknown): { from: string; to: string; resumeAfter?: string } {
  const request = validate(replayRequestSchema, input, 'replay request');
  const from = new Date(request.from).toISOString();
  const to = new Date(request.to).toISOString();
  if (from >= to) throw invalid('from', `${from} must be before 'to' (${to})`);
  const spanMs = Date.parse(to) - Date.parse(from);
  if (spanMs > MAX_REPLAY_DAYS * DAY_MS) {
    throw invalid('to', `the window from 'from' may span at most ${MAX_REPLAY_DAYS} days, this one spans ${(spanMs / DAY_MS).toFixed(1)}; split it`);
  }
  const resumeAfter = request.resumeAfter;
  if (resumeAfter !== undefined) {
    const time = OUTBOX_POSITION.exec(resumeAfter)![1];
    if (Number.isNaN(Date.parse(time)) || new Date(time).toISOString() !== time) throw invalid('resumeAfter', `${time} is not a real time`);
    if (time < from || time >= to) {
      throw invalid('resumeAfter', `position ${time} lies outside the window [${from}, ${to}); pass the 'from' and 'to' of the replay that returned it`);
    }
  }
  return { from, to, ...(resumeAfter !== undefined ? { resumeAfter } : {}) };
}

function utcDays(from: string, to: string): string[] {
  const days: string[] = [];
  for (let t = Date.parse(from.slice(0, 10)); t <= Date.parse(to); t += DAY_MS) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

/**
 * Re-publishes the outbox events that occurred in [from, to), unchanged (original eventId,
 * so consumers that saw them dedupe), day partition by day partition of the outbox index,
 * in time order. Stops early, with a position to resume after, when the time runs short.
 */
export async function replayOutbox(request: { from: string; to: string; resumeAfter?: string }, services: ReplayServices): Promise<ReplayResult> {
  // Keys hold `toISOString()` times; '...00Z' would sort after '...00.000Z#…' and skip it.
  const [from, to] = [request.from, request.to].map((t) => new Date(t).toISOString());
  let position = request.resumeAfter;
  let replayed = 0;
  const failed: string[] = [];
  for (const day of utcDays(from, to)) {
    if (position && position.slice(0, 10) > day) continue; // days done before the resume point
    // Fixed for the day's pages: a query continued with ExclusiveStartKey keeps its key condition.
    // Every OUTBOX_AT has one length (`<ISO time>#<uuid>`), so `position + NUL` sorts after
    // it and before any later key: BETWEEN stays a key condition (a filter on a key is refused).
    const lower = position && position >= from ? `${position}\u0000` : from;
    let startKey: Record<string, unknown> | undefined;
    do {
      if (services.remainingTimeMs() < (services.safetyMarginMs ?? 30_000)) {
        return { replayed, failed, complete: false, ...(position ? { resumeAfter: position } : {}) };
      }
      const page = await services.db.send(new QueryCommand({
        TableName: services.tableName,
        IndexName: PAYMENTS_TABLE_SCHEMA.outboxByTimeIndex.indexName,
        // `<to>#<id>` sorts after `to`: the window is [from, to).
        KeyConditionExpression: 'OUTBOX_DAY = :day AND OUTBOX_AT BETWEEN :lower AND :upper',
        ExpressionAttributeValues: { ':day': day, ':lower': lower, ':upper': to },
        ExclusiveStartKey: startKey,
        Limit: services.pageSize ?? 100,
      }));
      const items = page.Items ?? [];
      const records = items.map((i) => ({ sequenceNumber: i.OUTBOX_AT as string, envelope: i.envelope as EventEnvelope<unknown> }));
      const report = await publishToSinks(records, { sinks: services.sinks });
      replayed += report.published;
      failed.push(...report.failed.map((f) => f.eventId));
      if (items.length > 0) position = items[items.length - 1].OUTBOX_AT as string;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }
  return { replayed, failed, complete: true };
}
