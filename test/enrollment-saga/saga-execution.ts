import { randomUUID } from 'node:crypto';
import { Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import { StateMachine } from 'aws-local-stepfunctions';
import { enrollmentTable } from './enrollment-fixture';
import type { SessionPlan } from '../../functions/enrollment-saga/saga-types';
import { EnrollmentSaga } from '../../lib/enrollment-saga';
import { testApp, testStack } from '../constructs/test-app';
import { bundleHandler, loadHandler } from '../harness/bundle-handler';
import { configureHandlerEnv, createIdempotencyTable, fakeContext, localClients, uniqueName } from '../harness/local-aws';

type TaskFn = (input: any) => Promise<any>;
const STEP_FILES = ['create-purchase', 'allocate-trainer', 'schedule-sessions', 'complete-enrollment', 'compensate'] as const;

/**
 * The state machine exactly as the construct synthesizes it: the definition's CloudFormation
 * tokens become placeholder ARNs, and each Task is mapped back to its handler through the
 * function's service name.
 */
export function synthesizedSaga(plan: SessionPlan) {
  const stack = testStack(testApp({ nag: false }));
  new EnrollmentSaga(stack, 'Enrollment', {
    eventBus: new events.EventBus(stack, 'Bus'),
    sessionsPerWindow: plan.window,
    totalSessions: plan.total,
    sessionIntervalDays: plan.intervalDays,
    sessionTime: plan.time,
  });
  const template = Template.fromStack(stack);
  const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine')) as any[];
  const parts = machine.Properties.DefinitionString['Fn::Join'][1] as unknown[];
  const asl = parts.map((p: any) => {
    if (typeof p === 'string') return p;
    if (p['Fn::GetAtt']) return `arn:aws:lambda:us-east-1:000000000000:function:${p['Fn::GetAtt'][0]}`;
    if (p.Ref) return p.Ref === 'AWS::Partition' ? 'aws' : p.Ref;
    throw new Error(`Unexpected token in the definition: ${JSON.stringify(p)}`);
  }).join('');
  const serviceOf: Record<string, string> = {};
  for (const [logicalId, fn] of Object.entries(template.findResources('AWS::Lambda::Function')) as Array<[string, any]>) {
    serviceOf[logicalId] = fn.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME;
  }
  return { definition: JSON.parse(asl), serviceOf };
}

export interface SagaRun {
  readonly emitted: any[];
  /** Runs one execution; `wrap` may replace a step's handler or the PutEvents integration (crash injection). */
  run(input: unknown, wrap?: Partial<Record<(typeof STEP_FILES)[number] | 'put-events', (real: TaskFn) => TaskFn>>): Promise<{ status: 'SUCCEEDED' | 'FAILED'; output?: any; error?: string }>;
}

/** The synthesized saga on aws-local-stepfunctions, its Lambda tasks running the bundled handlers on DynamoDB Local. */
export async function localSaga(plan: SessionPlan) {
  const table = await enrollmentTable(plan);
  const idempotencyTableName = uniqueName('saga-idempotency');
  await createIdempotencyTable(localClients().ddb, idempotencyTableName);
  configureHandlerEnv({
    ENROLLMENT_TABLE_NAME: table.services.tableName,
    IDEMPOTENCY_TABLE_NAME: idempotencyTableName,
    SESSION_WINDOW: String(plan.window),
    TOTAL_SESSIONS: String(plan.total),
    SESSION_INTERVAL_DAYS: String(plan.intervalDays),
    SESSION_TIME: plan.time,
  });
  const handlers = Object.fromEntries(await Promise.all(STEP_FILES.map(async (file) => {
    const handler = loadHandler(await bundleHandler(`functions/enrollment-saga/${file}.ts`));
    return [file, (input: unknown) => handler(input, fakeContext(file))] as const;
  }))) as Record<(typeof STEP_FILES)[number], TaskFn>;

  const { definition, serviceOf } = synthesizedSaga(plan);
  const machine = new StateMachine(definition); // validates the definition as Amazon States Language
  const emitted: any[] = [];
  const putEvents: TaskFn = async ({ Entries }) => {
    emitted.push(...Entries.map((e: any) => ({ ...e, Detail: typeof e.Detail === 'string' ? JSON.parse(e.Detail) : e.Detail })));
    return { FailedEntryCount: 0, Entries: Entries.map(() => ({ EventId: randomUUID() })) };
  };
  const run: SagaRun['run'] = async (input, wrap = {}) => {
    const taskResourceLocalHandlers: Record<string, TaskFn> = {};
    const retryIntervalOverrides: Record<string, number> = {};
    for (const [name, state] of Object.entries(definition.States) as Array<[string, any]>) {
      if (state.Type !== 'Task') continue;
      // Retries wait a fixed time instead of 1 s ×2 with jitter. A step retried because a
      // duplicate execution still holds its idempotency record (IdempotencyAlreadyInProgress)
      // must outwait that execution's step on a loaded 2-core machine: 250 ms × 6 retries.
      retryIntervalOverrides[name] = state.Resource.includes('events:putEvents') ? 20 : 250;
      if (state.Resource.includes('events:putEvents')) {
        taskResourceLocalHandlers[name] = wrap['put-events'] ? wrap['put-events'](putEvents) : putEvents;
        continue;
      }
      const file = serviceOf[state.Resource.split(':function:')[1]].replace('enrollment-saga-', '') as (typeof STEP_FILES)[number];
      taskResourceLocalHandlers[name] = wrap[file] ? wrap[file]!(handlers[file]) : handlers[file];
    }
    try {
      const output = await machine.run(input as any, { overrides: { taskResourceLocalHandlers, retryIntervalOverrides } }).result;
      return { status: 'SUCCEEDED', output };
    } catch (error) {
      // ExecutionError wraps the error the execution failed with (the Fail state's, for a compensated saga).
      const failed = error as Error & { cause?: Error };
      return { status: 'FAILED', error: failed.cause?.name ?? failed.name };
    }
  };
  return { table, definition, emitted, run };
}
