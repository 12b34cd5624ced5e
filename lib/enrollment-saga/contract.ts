/**
 * EnrollmentSaga's contract: what the construct, its handlers and the tests agree on. It
 * imports nothing, so the handlers' bundles and the construct share one copy of each name.
 */

/** Environment variables the construct sets and the handlers read. */
export const EnrollmentSagaEnv = {
  TABLE_NAME: 'ENROLLMENT_TABLE_NAME',
  IDEMPOTENCY_TABLE_NAME: 'IDEMPOTENCY_TABLE_NAME',
  SESSION_WINDOW: 'SESSION_WINDOW',
  TOTAL_SESSIONS: 'TOTAL_SESSIONS',
  SESSION_INTERVAL_DAYS: 'SESSION_INTERVAL_DAYS',
  SESSION_TIME: 'SESSION_TIME',
  STATE_MACHINE_ARN: 'STATE_MACHINE_ARN',
  /** Comma-separated EventBridge `source`s a queue consumer accepts (others are refused to its DLQ). */
  ACCEPTED_SOURCES: 'ACCEPTED_SOURCES',
  /** Comma-separated AWS accounts a queue consumer accepts events from. */
  ACCEPTED_ACCOUNTS: 'ACCEPTED_ACCOUNTS',
  /** Where a queue consumer puts a refused event at once: its own queue's DLQ. */
  DEAD_LETTER_QUEUE_URL: 'DEAD_LETTER_QUEUE_URL',
  /** The bus the consumers outside the state machine put the saga's facts on. */
  EVENT_BUS_NAME: 'EVENT_BUS_NAME',
} as const;

const E = EnrollmentSagaEnv;
const SESSION_PLAN = [E.SESSION_WINDOW, E.TOTAL_SESSIONS, E.SESSION_INTERVAL_DAYS, E.SESSION_TIME] as const;
/** What every saga step reads: the table, its idempotency records, the session plan. */
const STEP = [E.TABLE_NAME, E.IDEMPOTENCY_TABLE_NAME, ...SESSION_PLAN] as const;

/** One entry per Lambda handler: its bundle, its Powertools service name, the variables it reads. */
export const EnrollmentSagaHandlers = {
  starter: {
    entry: 'enrollment-saga/start-saga',
    serviceName: 'enrollment-saga-starter',
    environment: [E.STATE_MACHINE_ARN, E.ACCEPTED_SOURCES, E.ACCEPTED_ACCOUNTS, E.DEAD_LETTER_QUEUE_URL],
  },
  createPurchase: { entry: 'enrollment-saga/create-purchase', serviceName: 'enrollment-saga-create-purchase', environment: STEP },
  allocateTrainer: { entry: 'enrollment-saga/allocate-trainer', serviceName: 'enrollment-saga-allocate-trainer', environment: STEP },
  scheduleSessions: { entry: 'enrollment-saga/schedule-sessions', serviceName: 'enrollment-saga-schedule-sessions', environment: STEP },
  completeEnrollment: { entry: 'enrollment-saga/complete-enrollment', serviceName: 'enrollment-saga-complete-enrollment', environment: STEP },
  compensate: { entry: 'enrollment-saga/compensate', serviceName: 'enrollment-saga-compensate', environment: STEP },
  topUp: { entry: 'enrollment-saga/top-up-sessions', serviceName: 'enrollment-saga-top-up', environment: [E.TABLE_NAME, ...SESSION_PLAN] },
  /** PaymentRefunded (in full) → the completed enrollment cancelled. */
  cancelOnRefund: {
    entry: 'enrollment-saga/cancel-on-refund',
    serviceName: 'enrollment-saga-cancel-on-refund',
    environment: [E.TABLE_NAME, E.IDEMPOTENCY_TABLE_NAME, E.ACCEPTED_SOURCES, E.ACCEPTED_ACCOUNTS, E.DEAD_LETTER_QUEUE_URL, E.EVENT_BUS_NAME],
  },
  /** A timed-out or aborted execution (its Catch never ran) → the same compensation. */
  compensateStopped: {
    entry: 'enrollment-saga/compensate-stopped',
    serviceName: 'enrollment-saga-compensate-stopped',
    environment: [E.TABLE_NAME, E.IDEMPOTENCY_TABLE_NAME, E.STATE_MACHINE_ARN, E.EVENT_BUS_NAME],
  },
} as const;

/**
 * PaymentOutbox's source and event types, copied as plain strings: a context never
 * imports another's files. They must equal lib/payment-outbox/contract.ts; the construct
 * takes them as props, these are only the defaults.
 */
export const PAYMENT_OUTBOX_SOURCE = 'cdk-event-services.payment-outbox';
export const PAYMENT_SUCCEEDED = 'PaymentSucceeded';
export const PAYMENT_REFUNDED = 'PaymentRefunded';

/** Defaults of the construct's props, in the units the handlers receive them. */
export const EnrollmentSagaDefaults = {
  sessionsPerWindow: 4,
  totalSessions: 30,
  sessionIntervalDays: 7,
  sessionTime: '09:00',
  sagaTimeoutMinutes: 15,
  /** Only PaymentOutbox's events start a saga unless `triggerPattern` says otherwise. */
  triggerSources: [PAYMENT_OUTBOX_SOURCE],
  triggerDetailTypes: [PAYMENT_SUCCEEDED],
  refundSources: [PAYMENT_OUTBOX_SOURCE],
  refundDetailTypes: [PAYMENT_REFUNDED],
} as const;

/** Facts the enrollment saga emits (EventBridge `detail-type`), each once per saga. */
export const EnrollmentEvents = {
  PURCHASE_CREATED: 'PurchaseCreated',
  TRAINER_ALLOCATED: 'TrainerAllocated',
  SESSIONS_SCHEDULED: 'SessionsScheduled',
  STUDENT_CACHE_INVALIDATED: 'StudentCacheInvalidated',
  ENROLLMENT_COMPLETED: 'EnrollmentCompleted',
  ENROLLMENT_FAILED: 'EnrollmentFailed',
  /** A completed enrollment undone because its payment was fully refunded. */
  ENROLLMENT_CANCELLED: 'EnrollmentCancelled',
} as const;

export type EnrollmentEventType = (typeof EnrollmentEvents)[keyof typeof EnrollmentEvents];

/** EventBridge `source` of every enrollment event. */
export const ENROLLMENT_EVENT_SOURCE = 'cdk-event-services.enrollment-saga';

/**
 * The enrollment table. One table holds purchases, trainers (seeded by users),
 * allocations, sessions and the guard items that make "one active purchase / allocation
 * per student and course" unique.
 */
export const ENROLLMENT_TABLE_SCHEMA = {
  partitionKey: 'PK',
  sortKey: 'SK',
  /** Allocations whose rolling window still has sessions to schedule (sparse). */
  topUpIndex: { indexName: 'TopUpIndex', partitionKey: 'TOPUP_PK', sortKey: 'TOPUP_SK' },
} as const;


/**
 * Lambda error names the steps throw for business outcomes: compensation follows, no retry.
 */
export const SagaRejections = {
  ALREADY_ENROLLED: 'AlreadyEnrolled',
  NO_TRAINER_AVAILABLE: 'NoTrainerAvailable',
  COURSE_UNKNOWN: 'CourseUnknown',
  PAYMENT_MISMATCH: 'PaymentMismatch',
  PAYMENT_REFUNDED: 'PaymentRefunded',
} as const;

export type SagaRejectionName = (typeof SagaRejections)[keyof typeof SagaRejections];

/** Error names the stopped-execution compensation records (the execution's Catch never ran). */
export const StoppedExecutionErrors = {
  TIMED_OUT: 'SagaTimedOut',
  ABORTED: 'SagaAborted',
} as const;

/** `reason` of `EnrollmentFailed` and `EnrollmentCancelled`. */
export const FailureReasons = {
  ALREADY_ENROLLED: 'ALREADY_ENROLLED',
  NO_TRAINER_AVAILABLE: 'NO_TRAINER_AVAILABLE',
  COURSE_UNKNOWN: 'COURSE_UNKNOWN',
  PAYMENT_MISMATCH: 'PAYMENT_MISMATCH',
  PAYMENT_REFUNDED: 'PAYMENT_REFUNDED',
  SAGA_TIMED_OUT: 'SAGA_TIMED_OUT',
  SAGA_ABORTED: 'SAGA_ABORTED',
  STEP_FAILED: 'STEP_FAILED',
} as const;

export type FailureReason = (typeof FailureReasons)[keyof typeof FailureReasons];
