/**
 * Facts the enrollment saga emits (EventBridge `detail-type`). Mirrors
 * functions/enrollment-saga/enrollment-events.ts; a test keeps the two equal.
 */
export const EnrollmentEvents = {
  PURCHASE_CREATED: 'PurchaseCreated',
  TRAINER_ALLOCATED: 'TrainerAllocated',
  SESSIONS_SCHEDULED: 'SessionsScheduled',
  STUDENT_CACHE_INVALIDATED: 'StudentCacheInvalidated',
  ENROLLMENT_COMPLETED: 'EnrollmentCompleted',
  ENROLLMENT_FAILED: 'EnrollmentFailed',
} as const;

/** EventBridge `source` of every enrollment event. */
export const ENROLLMENT_EVENT_SOURCE = 'cdk-event-services.enrollment-saga';
