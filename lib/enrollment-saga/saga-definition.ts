import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { ENROLLMENT_EVENT_SOURCE } from './contract';

/** PutEvents whose IAM grant carries an `events:source` condition: the state machine may put the saga's own facts only. */
class SagaPutEvents extends tasks.EventBridgePutEvents {
  constructor(scope: Construct, id: string, props: tasks.EventBridgePutEventsProps) {
    super(scope, id, props);
    for (const statement of this.taskPolicies ?? []) statement.addCondition('StringEquals', { 'events:source': ENROLLMENT_EVENT_SOURCE });
  }
}

export interface SagaStepFunctions {
  readonly createPurchase: lambda.IFunction;
  readonly allocateTrainer: lambda.IFunction;
  readonly scheduleSessions: lambda.IFunction;
  readonly completeEnrollment: lambda.IFunction;
  readonly compensate: lambda.IFunction;
}

/**
 * Errors worth retrying a step on: Lambda's own, a function or task that timed out
 * (`Sandbox.Timedout`, `States.Timeout`; every step is idempotent), contention the step
 * gave up on, and a retry that arrives while a timed-out attempt still holds the step's
 * idempotency record.
 */
export const TRANSIENT_ERRORS = [
  'Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException',
  'Lambda.Unknown', 'Sandbox.Timedout', 'States.Timeout', 'TransientError', 'IdempotencyAlreadyInProgressError',
];
const RETRY: sfn.RetryProps = {
  errors: TRANSIENT_ERRORS, interval: Duration.seconds(1), backoffRate: 2, maxAttempts: 6, jitterStrategy: sfn.JitterType.FULL,
};
/** Errors compensation can never get past by trying again: a bad input or a function deployed without its configuration. */
export const COMPENSATION_PERMANENT_ERRORS = ['ValidationError', 'ConfigurationError'];
/**
 * Compensation must finish, and it is idempotent: every other error (an SDK timeout, a
 * throttled table, a Lambda or task timeout) is retried, up to ~8 minutes in all (2 s ×2, capped at 1 minute, 12 times).
 */
const COMPENSATION_RETRY: sfn.RetryProps = {
  errors: [sfn.Errors.ALL],
  interval: Duration.seconds(2),
  backoffRate: 2,
  maxAttempts: 12,
  maxDelay: Duration.minutes(1),
  jitterStrategy: sfn.JitterType.FULL,
};
/**
 * Each fact is its own PutEvents call with one entry, so a retry re-sends only the refused
 * fact and facts keep their order; a re-emission repeats the fact's own event id, so any
 * PutEvents failure is safe to retry (FailedEntry: the entry was refused).
 */
const EMIT_RETRY: sfn.RetryProps = {
  errors: ['EventBridge.FailedEntry', 'States.TaskFailed'],
  // ~5 minutes of attempts: a fact is worth waiting for (sagaTimeout is at least 10 minutes, checked at synth)
  interval: Duration.seconds(1),
  backoffRate: 2,
  maxAttempts: 10,
  maxDelay: Duration.minutes(1),
  jitterStrategy: sfn.JitterType.FULL,
};

/**
 * The saga: purchase → trainer seat → sessions → completion, each fact put on the bus by
 * the state machine right after its step; any failure after retries runs compensation
 * (free the seat, cancel the purchase), emits EnrollmentFailed and fails the execution;
 * a failure after completion keeps the enrollment and fails as FailedAfterCompletion; a
 * compensation that still fails after its retries ends in CompensationFailed (alarmed),
 * for an operator to fix the cause and redrive the execution.
 */
export function sagaDefinition(scope: Construct, fns: SagaStepFunctions, bus: events.IEventBus): sfn.IChainable {
  const step = (id: string, fn: lambda.IFunction, resultPath: string) =>
    new tasks.LambdaInvoke(scope, id, { lambdaFunction: fn, payloadResponseOnly: true, resultPath, retryOnServiceExceptions: false }).addRetry(RETRY);
  const entry = (path: string): tasks.EventBridgePutEventsEntry => ({
    eventBus: bus,
    detail: sfn.TaskInput.fromJsonPathAt(path),
    detailType: sfn.JsonPath.stringAt(`${path}.eventType`),
    source: sfn.JsonPath.stringAt(`${path}.source`),
  });
  const emit = (id: string, path: string) =>
    new SagaPutEvents(scope, id, { entries: [entry(path)], resultPath: sfn.JsonPath.DISCARD }).addRetry(EMIT_RETRY);

  const failed = emit('EmitEnrollmentFailed', '$.compensation.event')
    .next(new sfn.Fail(scope, 'EnrollmentFailed', { error: 'EnrollmentFailed', causePath: '$.compensation.reason' }));
  // Compensation never undoes a completed enrollment; the execution still fails, so the alarm shows it.
  const completed = new sfn.Fail(scope, 'FailedAfterCompletion', {
    error: 'FailedAfterCompletion', cause: 'The enrollment is complete and was kept; a later state failed (see the execution history).',
  });
  const compensate = new tasks.LambdaInvoke(scope, 'Compensate', {
    lambdaFunction: fns.compensate, payloadResponseOnly: true, resultPath: '$.compensation', retryOnServiceExceptions: false,
  })
    .addRetry({ errors: COMPENSATION_PERMANENT_ERRORS, maxAttempts: 0 })
    .addRetry(COMPENSATION_RETRY)
    .addCatch(new sfn.Fail(scope, 'CompensationFailed', {
      error: 'CompensationFailed',
      cause: 'Compensation failed after its retries: the seat, purchase or guards may still be held. Fix the cause and redrive this execution.',
    }), { errors: [sfn.Errors.ALL], resultPath: '$.compensationError' });
  const compensation = compensate
    .next(new sfn.Choice(scope, 'WasCompleted')
      .when(sfn.Condition.booleanEquals('$.compensation.alreadyCompleted', true), completed)
      .otherwise(failed));
  const guarded = <T extends sfn.TaskStateBase>(state: T): T => {
    state.addCatch(compensation, { errors: ['States.ALL'], resultPath: '$.error' });
    return state;
  };

  return guarded(step('CreatePurchase', fns.createPurchase, '$.purchase'))
    .next(guarded(emit('EmitPurchaseCreated', '$.purchase.event')))
    .next(guarded(step('AllocateTrainer', fns.allocateTrainer, '$.allocation')))
    .next(guarded(emit('EmitTrainerAllocated', '$.allocation.event')))
    .next(guarded(step('ScheduleSessions', fns.scheduleSessions, '$.sessions')))
    .next(guarded(emit('EmitSessionsScheduled', '$.sessions.event')))
    .next(guarded(step('CompleteEnrollment', fns.completeEnrollment, '$.completion')))
    // One fact per call, in order: the cache fact is on the bus before EnrollmentCompleted.
    .next(guarded(emit('EmitStudentCacheInvalidated', '$.completion.events[0]')))
    .next(guarded(emit('EmitEnrollmentCompleted', '$.completion.events[1]')))
    .next(new sfn.Succeed(scope, 'EnrollmentCompleted'));
}
