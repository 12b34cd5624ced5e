import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SagaRejectionName } from '../../lib/enrollment-saga/contract';

/** What the starter passes to the state machine; every step gets it at the top of its input. */
export interface SagaInput {
  /** = paymentId: every deterministic key and event id derives from it. */
  readonly sagaId: string;
  /** The triggering event's id. */
  readonly eventId: string;
  readonly correlationId: string;
  readonly paymentId: string;
  readonly studentId: string;
  readonly courseId: string;
  /** What was paid, in minor units (cents), as the payment event says: checked against the course's price. */
  readonly amount: number;
  /** ISO 4217 code of what was paid. */
  readonly currency: string;
}

/** The rolling window of sessions: the next `window` of `total`, every `intervalDays` at `time` (UTC). */
export interface SessionPlan {
  readonly window: number;
  readonly total: number;
  readonly intervalDays: number;
  readonly time: string;
}

/** What code that only reads and writes the enrollment table needs (compensation, the consumers). */
export interface TableServices {
  readonly db: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly now: () => Date;
}

export interface SagaServices extends TableServices {
  readonly plan: SessionPlan;
}

/**
 * A business outcome that ends the saga (compensation follows). The `name` is what Step
 * Functions sees as the Lambda error type, so it is stable.
 */
export class SagaRejection extends Error {
  constructor(readonly name: SagaRejectionName, message: string) {
    super(message);
  }
}

/** Contention that outlasted the step's own retries: the state machine retries the step. */
export class TransientError extends Error {
  readonly name = 'TransientError';
}
