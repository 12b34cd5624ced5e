import * as path from 'node:path';
import { countCalls, type Counts } from './aws-calls';
import { DEFAULT_PLAN, enrollmentTable, sagaInput } from '../enrollment-saga/enrollment-fixture';
import { bundleEntry } from '../harness/bundle-handler';
import { startDynamoDbLocal } from '../harness/emulator-processes';
import { configureHandlerEnv, createIdempotencyTable, fakeContext, localClients } from '../harness/local-aws';

export interface SagaBench {
  /** DynamoDB calls per step of one saga, and of one compensation (no trainer free). */
  readonly callsPerStep: Record<string, Counts>;
  /** The four steps of one saga back to back (handler time, no state machine transitions). */
  readonly sagaSteps: { n: number; p50: number; p95: number };
  /** The daily top-up over `allocations` allocations whose windows are full. */
  readonly topUp: { allocations: number; ms: number; perSecond: number; calls: Counts };
}

const STEPS = ['createPurchase', 'allocateTrainer', 'scheduleSessions', 'completeEnrollment'] as const;
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/**
 * The saga's handlers, warm, against DynamoDB Local: AWS calls per step, the time of the
 * four steps of one enrollment, and how many allocations the top-up gets through per
 * second (which bounds what its 5-minute timeout can cover).
 */
export async function measureSaga(n = 200): Promise<SagaBench> {
  const dynamodb = await startDynamoDbLocal();
  try {
    process.env.TEST_DYNAMODB_ENDPOINT = dynamodb.endpoint;
    process.env.TEST_FAUXQS_ENDPOINT = dynamodb.endpoint; // unused here; localClients wants both
    const table = await enrollmentTable(DEFAULT_PLAN);
    await createIdempotencyTable(localClients().ddb, 'bench-saga-idempotency');
    configureHandlerEnv({
      ENROLLMENT_TABLE_NAME: table.services.tableName,
      IDEMPOTENCY_TABLE_NAME: 'bench-saga-idempotency',
      SESSION_WINDOW: String(DEFAULT_PLAN.window),
      TOTAL_SESSIONS: String(DEFAULT_PLAN.total),
      SESSION_INTERVAL_DAYS: String(DEFAULT_PLAN.intervalDays),
      SESSION_TIME: DEFAULT_PLAN.time,
    });
    const bundle = await bundleEntry(path.join(__dirname, 'saga-entry.ts'), path.join(__dirname, '.out', 'saga-entry.js'));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(bundle.file);
    const counts: Counts = {};
    countCalls(mod.dynamoDbClient, 'DynamoDB', counts);
    const reset = () => { for (const k of Object.keys(counts)) counts[k] = 0; };
    const used = () => Object.fromEntries(Object.entries(counts).filter(([, c]) => c > 0));
    await table.seedTrainers('crs_bench', Array.from({ length: 10 }, () => n + 100));
    const runSaga = async () => {
      const input = sagaInput({ courseId: 'crs_bench' });
      for (const step of STEPS) await mod[step](input, fakeContext(step));
    };
    for (let i = 0; i < 20; i++) await runSaga(); // warm: JIT, connections

    const callsPerStep: Record<string, Counts> = {};
    const input = sagaInput({ courseId: 'crs_bench' });
    for (const step of STEPS) {
      reset();
      await mod[step](input, fakeContext(step));
      callsPerStep[step] = used();
    }
    // A course with a price but no trainer: the purchase passes the amount check, allocation fails.
    await table.seedCourse('crs_without_trainers');
    const rejected = sagaInput({ courseId: 'crs_without_trainers' });
    await mod.createPurchase(rejected, fakeContext());
    reset();
    await mod.compensate({ ...rejected, error: { Error: 'NoTrainerAvailable' } }, fakeContext());
    callsPerStep.compensate = used();

    const samples: number[] = [];
    for (let i = 0; i < n; i++) {
      const start = process.hrtime.bigint();
      await runSaga();
      samples.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    samples.sort((a, b) => a - b);

    reset();
    const start = process.hrtime.bigint();
    const result = await mod.topUp({}, fakeContext('top-up'));
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    return {
      callsPerStep,
      sagaSteps: { n, p50: percentile(samples, 50), p95: percentile(samples, 95) },
      topUp: { allocations: result.allocations, ms, perSecond: result.allocations / (ms / 1000), calls: used() },
    };
  } finally {
    await dynamodb.stop();
  }
}
