/**
 * The per-function rate limit: GCRA (the generic cell rate algorithm, a token bucket kept as one
 * number) in the registry table's `RATE` item, decided by a conditional UpdateItem, never a read.
 *
 * With interval `T = 1 s / requestsPerSecond` and tolerance `tau = (burst - 1) * T`, the item holds
 * `tat`, the theoretical arrival time (microseconds since the epoch, integers: exact arithmetic in
 * DynamoDB). A call at `now` is admitted iff `tat <= now + tau`, and then `tat = max(tat, now) + T`.
 * From idle that admits `burst` calls at once, then one per `T`: at most `burst + floor(t / T)` in
 * any span `t`, which is the token bucket's bound (capacity `burst`, refill `requestsPerSecond`).
 *
 * Why "one update per call" needs a branch: DynamoDB's UpdateExpression has `+`, `-` and
 * `if_not_exists`, but no `max`/`min` and no branching on a value, and a ConditionExpression has
 * no arithmetic. So `max(tat, now)` (the refill clamp; without it idle time would bank an unbounded
 * burst) cannot be one expression. The two cases are each one conditional update:
 * - busy (`now <= tat <= now + tau`): `SET tat = tat + T`;
 * - idle (`tat < now` or no item): `SET tat = now + T`.
 * The limiter guesses the case from the `tat` this container saw last; a wrong guess fails its
 * condition, and the failure returns the item (`ReturnValuesOnConditionCheckFailure: ALL_OLD`), which
 * says the right case or a refusal with its Retry-After: no read ever. `tat` only rises, so a
 * decision takes at most 3 updates (busy→idle→busy under a race), 1 when the guess is right (every
 * call of a steadily busy or steadily idle function). Under concurrency the bound is exact: each
 * admission is a serialized conditional write on one item, so no two calls spend the same slot.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { REGISTRY_TABLE_SCHEMA as S, RegistryLayout as L, type RateLimit } from '../../lib/lambda-runtime-service/contract';
import { isConditionFailure } from '../shared/dynamodb-conditions';

export interface RateLimiterServices {
  readonly db: DynamoDBDocumentClient;
  /** The registry table (the bucket is the function's `RATE` item). */
  readonly tableName: string;
  /** Milliseconds since the epoch (injected in tests). */
  readonly nowMs: () => number;
}

export interface RateDecision {
  readonly allowed: boolean;
  /** Whole seconds until a call would be admitted (0 when allowed): the 429's `Retry-After`. */
  readonly retryAfterSeconds: number;
  /** UpdateItem calls this decision took (1–3). */
  readonly writes: number;
}

/** GCRA parameters of a rate limit, in microseconds. */
export function gcraParameters(limit: RateLimit): { intervalUs: number; toleranceUs: number } {
  const intervalUs = Math.max(1, Math.round(1_000_000 / limit.requestsPerSecond));
  return { intervalUs, toleranceUs: (limit.burst - 1) * intervalUs };
}

const MAX_WRITES = 3;

export class RateLimiter {
  /** The last `tat` this container saw per function: only a guess of which update fits. */
  private readonly lastTat = new Map<string, number>();

  constructor(private readonly services: RateLimiterServices) {}

  /** Takes one call from `name`'s bucket, or refuses with the seconds until the next admission. */
  async take(name: string, limit: RateLimit): Promise<RateDecision> {
    const { intervalUs, toleranceUs } = gcraParameters(limit);
    const now = Math.round(this.services.nowMs() * 1000);
    const max = now + toleranceUs;
    const seen = this.lastTat.get(name);
    let busy = seen !== undefined && seen >= now;
    for (let writes = 1; writes <= MAX_WRITES; writes++) {
      try {
        const { Attributes } = await this.services.db.send(new UpdateCommand({
          TableName: this.services.tableName,
          Key: { [S.partitionKey]: L.functionPk(name), [S.sortKey]: L.RATE_SK },
          ...(busy
            ? {
              UpdateExpression: 'SET #tat = #tat + :interval',
              ConditionExpression: '#tat BETWEEN :now AND :max',
              ExpressionAttributeValues: { ':interval': intervalUs, ':now': now, ':max': max },
            }
            : {
              UpdateExpression: 'SET #tat = :next',
              ConditionExpression: 'attribute_not_exists(#tat) OR #tat < :now',
              ExpressionAttributeValues: { ':next': now + intervalUs, ':now': now },
            }),
          ExpressionAttributeNames: { '#tat': 'tat' },
          ReturnValues: 'UPDATED_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }));
        this.lastTat.set(name, Attributes!.tat as number);
        return { allowed: true, retryAfterSeconds: 0, writes };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        const item = (error as { Item?: Record<string, any> }).Item;
        const tat = item && item.tat ? (unmarshall(item).tat as number) : undefined;
        if (tat === undefined || tat < now) {
          busy = false;
          continue;
        }
        this.lastTat.set(name, tat);
        if (tat > max) {
          // Admitted again once now' + tau >= tat.
          return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((tat - toleranceUs - now) / 1_000_000)), writes };
        }
        busy = true;
      }
    }
    // Unreachable: tat only rises, so idle fails at most once before busy decides.
    throw new Error(`Rate limit of '${name}' undecided after ${MAX_WRITES} writes`);
  }
}
