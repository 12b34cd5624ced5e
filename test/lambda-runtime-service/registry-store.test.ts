import { runtimeTables, type RuntimeTables } from './runtime-tables';
import {
  deleteFunction, ensureRegisteredForBuild, FunctionBeingDeletedError, FunctionExistsError, FunctionNotFoundError, getFunction, listFunctions,
  markPurged, NothingToRollBackError, planDeployment, recordDeployment, registerFunction, rollbackDeployment, updateFunction, VersionMismatchError,
  type DeploymentInput,
} from '../../functions/lambda-runtime-service/registry-store';
import { HttpError, ValidationError } from '../../functions/shared/errors';
import {
  AWS_FUNCTION_NAME_MAX_LENGTH, awsFunctionName, awsScheduleName, DEFAULT_FUNCTION_SETTINGS, FUNCTION_NAME_PATTERN, FUNCTION_PREFIX_PATTERN,
  LambdaRuntimeErrors, SCHEDULE_NAME_PATTERN,
} from '../../lib/lambda-runtime-service/contract';

let seq = 0;
const fresh = (base = 'fn') => `${base}-${++seq}`;
const base = { runtime: 'nodejs24.x' };

/** The HttpError a promise rejects with (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<HttpError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(HttpError);
    return error as HttpError;
  }
  throw new Error('expected a rejection');
}

const build = (buildId: string, buildCreatedAt: string, lambdaVersion: string): DeploymentInput => ({ buildId, buildCreatedAt, lambdaVersion });

describe('function names (contract)', () => {
  test('a name is 1-40 of a-z 0-9 -, no leading or trailing dash; prefix + name fits AWS\'s 64', () => {
    for (const ok of ['a', 'orders-api', 'a1', '0', 'x'.repeat(40)]) expect(FUNCTION_NAME_PATTERN.test(ok)).toBe(true);
    for (const bad of ['', '-a', 'a-', 'A', 'a_b', 'a.b', 'x'.repeat(41), 'é']) expect(FUNCTION_NAME_PATTERN.test(bad)).toBe(false);
    const longestPrefix = 'P' + 'x'.repeat(22);
    expect(FUNCTION_PREFIX_PATTERN.test(longestPrefix)).toBe(true);
    expect(FUNCTION_PREFIX_PATTERN.test(longestPrefix + 'x')).toBe(false);
    expect(FUNCTION_PREFIX_PATTERN.test('plat-')).toBe(false);
    expect(awsFunctionName(longestPrefix, 'x'.repeat(40))).toHaveLength(AWS_FUNCTION_NAME_MAX_LENGTH);
    expect(awsScheduleName('x'.repeat(40), 'y'.repeat(23))).toHaveLength(64);
    expect(SCHEDULE_NAME_PATTERN.test('y'.repeat(24))).toBe(false);
  });
});

describe('function registry (DynamoDB Local)', () => {
  let t: RuntimeTables;
  const limits = { maxMemoryMb: 512, maxTimeoutSeconds: 30, maxRequestsPerSecond: 50, maxBurst: 100, maxSchedules: 2 };
  beforeAll(async () => { t = await runtimeTables(limits); });
  afterAll(() => t.clients.ddb.destroy());

  test('register: defaults filled in, version 1, listing keys on the item, none in the record', async () => {
    const name = fresh();
    const at = new Date(t.clock.ms).toISOString();
    const record = await registerFunction({ name, ...base }, t.registry);
    expect(record).toEqual({
      name,
      runtime: 'nodejs24.x',
      handler: 'index.handler',
      memoryMb: DEFAULT_FUNCTION_SETTINGS.memoryMb,
      timeoutSeconds: DEFAULT_FUNCTION_SETTINGS.timeoutSeconds,
      environment: {},
      rateLimit: DEFAULT_FUNCTION_SETTINGS.rateLimit,
      schedules: [],
      reservedConcurrency: DEFAULT_FUNCTION_SETTINGS.reservedConcurrency,
      deployment: { strategy: 'all-at-once' },
      version: 1,
      registeredAt: at,
      updatedAt: at,
    });
    expect(await getFunction(name, t.registry)).toEqual(record);
    expect(await t.rawRegistryItem(`FUNCTION#${name}`, 'META')).toMatchObject({
      LIST_PK: 'FUNCTIONS', NAME_SK: name, CREATED_SK: `${at}#${name}`,
    });
    expect(await getFunction(fresh('absent'), t.registry)).toBeUndefined();
  });

  test('register: a taken name is 409 FUNCTION_EXISTS; of 10 concurrent registrations exactly one wins', async () => {
    const name = fresh();
    await registerFunction({ name, ...base }, t.registry);
    const again = await rejection(registerFunction({ name, runtime: 'python3.13' }, t.registry));
    expect(again).toBeInstanceOf(FunctionExistsError);
    expect(again).toMatchObject({ statusCode: 409, code: LambdaRuntimeErrors.FUNCTION_EXISTS, name: 'FunctionExistsError' });
    expect((await getFunction(name, t.registry))!.runtime).toBe('nodejs24.x');

    const racing = fresh();
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) =>
      registerFunction({ name: racing, ...base, memoryMb: 128 + i }, t.registry)));
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected' && r.reason instanceof FunctionExistsError)).toHaveLength(9);
    expect((await getFunction(racing, t.registry))!.memoryMb).toBe((won[0] as PromiseFulfilledResult<{ memoryMb: number }>).value.memoryMb);
  });

  test.each(([
    [{ name: 'Bad' }, /^name:/],
    [{ name: 'a-' }, /^name:/],
    [{ runtime: 'java21' }, /^runtime: one of nodejs20\.x/],
    [{ memoryMb: 1024 }, /^memoryMb: an integer from 128 to 512$/], // the limit passed in, not Lambda's
    [{ memoryMb: 127 }, /^memoryMb:/],
    [{ memoryMb: 256.5 }, /^memoryMb:/],
    [{ timeoutSeconds: 31 }, /^timeoutSeconds: an integer from 1 to 30$/],
    [{ timeoutSeconds: 0 }, /^timeoutSeconds:/],
    [{ handler: 'index' }, /^handler:/],
    [{ runtime: 'provided.al2023', handler: 'index.handler' }, /^handler: a provided\.al2023 function's handler is 'bootstrap'$/],
    [{ rateLimit: { requestsPerSecond: 51, burst: 1 } }, /^rateLimit\.requestsPerSecond: a number from 0\.01 to 50$/],
    [{ rateLimit: { requestsPerSecond: 0, burst: 1 } }, /^rateLimit\.requestsPerSecond:/],
    [{ rateLimit: { requestsPerSecond: 5, burst: 101 } }, /^rateLimit\.burst: an integer from 1 to 100$/],
    [{ rateLimit: { requestsPerSecond: 5, burst: 5, window: 1 } }, /^rateLimit: unknown field\(s\) window$/],
    [{ environment: { AWS_REGION: 'x' } }, /^environment: 'AWS_REGION' is reserved by Lambda$/],
    [{ environment: { _HANDLER: 'x' } }, /^environment: '_HANDLER' is not a valid name/],
    [{ environment: { '1ABC': 'x' } }, /^environment: '1ABC' is not a valid name/],
    [{ environment: { 'AB': 'x', 'B-C': 'y' } }, /^environment: 'B-C' is not a valid name/],
    [{ environment: { A: 'x' } }, /^environment: 'A' is not a valid name \(a letter, then one or more/], // Lambda's pattern needs 2 characters
    [{ environment: { COUNT: 3 } }, /^environment: 'COUNT' must be a string$/],
    [{ environment: { BIG: 'x'.repeat(4090) } }, /^environment: 4100 bytes, Lambda allows 4096/],
    [{ environment: ['A=1'] }, /^environment: an object/],
    [{ schedules: [{ name: 'a', expression: 'rate(1 minutes)', timezone: 'UTC' }] }, /^schedules\.0\.expression: rate\(1 minute\) \(singular for 1\)$/],
    [{ schedules: [{ name: 'a', expression: 'rate(5 minute)', timezone: 'UTC' }] }, /plural above 1/],
    [{ schedules: [{ name: 'a', expression: 'rate(0 minutes)', timezone: 'UTC' }] }, /a rate of at least 1/],
    [{ schedules: [{ name: 'a', expression: 'rate(5 seconds)', timezone: 'UTC' }] }, /rate\(\.\.\.\), cron\(\.\.\.\) or at\(\.\.\.\)/],
    [{ schedules: [{ name: 'a', expression: 'cron(0 9 * * ?)', timezone: 'UTC' }] }, /6 fields/],
    [{ schedules: [{ name: 'a', expression: 'cron(0 9 * * MON *)', timezone: 'UTC' }] }, /'\?' in exactly one of day-of-month and day-of-week/],
    [{ schedules: [{ name: 'a', expression: 'cron(61 9 ? * MON *)', timezone: 'UTC' }] }, /cron minutes '61' is invalid/],
    [{ schedules: [{ name: 'a', expression: 'cron(0 9 ? FOO MON *)', timezone: 'UTC' }] }, /cron month 'FOO' is invalid/],
    [{ schedules: [{ name: 'a', expression: 'cron(0 9 32W * ? *)', timezone: 'UTC' }] }, /cron day-of-month '32W' is invalid/],
    [{ schedules: [{ name: 'a', expression: 'cron(0 9 ? * 8#2 *)', timezone: 'UTC' }] }, /cron day-of-week '8#2' is invalid/],
    [{ schedules: [{ name: 'a', expression: 'cron(0 9 ? * MON *) ; rm', timezone: 'UTC' }] }, /rate\(\.\.\.\), cron\(\.\.\.\) or at\(\.\.\.\)/],
    [{ schedules: [{ name: 'a', expression: 'at(2026-02-30T09:00:00)', timezone: 'UTC' }] }, /at\(\.\.\.\) names no real date/],
    [{ schedules: [{ name: 'a', expression: 'rate(5 minutes)', timezone: 'Mars/Olympus_Mons' }] }, /^schedules\.0\.timezone: an IANA time zone/],
    [{ schedules: [{ name: 'a', expression: 'rate(5 minutes)', timezone: '+05:30' }] }, /timezone: an IANA time zone/],
    [{ schedules: [{ name: 'a', expression: 'rate(5 minutes)' }, { name: 'a', expression: 'rate(6 minutes)' }] }, /^schedules\.1\.name: 'a' is used twice$/],
    [{ schedules: [{ name: 'A', expression: 'rate(5 minutes)' }] }, /^schedules\.0\.name:/],
    [{ schedules: [1, 2, 3].map((i) => ({ name: `s${i}`, expression: 'rate(5 minutes)' })) }, /^schedules: at most 2$/],
    [{ schedules: [{ name: 'a', expression: 'rate(5 minutes)', payload: { blob: 'x'.repeat(8200) } }] }, /^schedules\.0\.payload: at most 8192 bytes/],
    [{ schedules: [{ name: 'a', expression: 'rate(5 minutes)', retries: 3 }] }, /^schedules\.0: unknown field\(s\) retries$/],
    [{ memorySize: 256 }, /^unknown field\(s\) 'memorySize'$/],
    [{ reservedConcurrency: 11 }, /^reservedConcurrency: an integer from 1 to 10$/],
    [{ reservedConcurrency: 0 }, /^reservedConcurrency:/],
    [{ deployment: { strategy: 'blue-green' } }, /^deployment\.strategy: 'all-at-once' or 'canary'$/],
    [{ deployment: 'canary' }, /^deployment: \{ strategy/],
    [{ deployment: { strategy: 'all-at-once', steps: [10] } }, /^deployment: 'all-at-once' takes no other field$/],
    [{ deployment: { strategy: 'canary', steps: [50, 10] } }, /^deployment\.steps: strictly ascending$/],
    [{ deployment: { strategy: 'canary', steps: [100] } }, /^deployment\.steps\[0\]: an integer from 1 to 99$/],
    [{ deployment: { strategy: 'canary', steps: [] } }, /^deployment\.steps: 1 to 5 percentages$/],
    [{ deployment: { strategy: 'canary', stepMinutes: 0 } }, /^deployment\.stepMinutes: an integer from 1 to 1440$/],
    [{ deployment: { strategy: 'canary', maxErrorRatePercent: 101 } }, /^deployment\.maxErrorRatePercent: a number from 0 to 100$/],
    [{ deployment: { strategy: 'canary', weight: 0.1 } }, /^deployment: unknown field\(s\) 'weight'$/],
  ] as Array<[Record<string, unknown>, RegExp]>).map(([change, message]) => [JSON.stringify(change).slice(0, 90), change, message] as const))('register refuses %s with a 400 naming the field', async (_, change, message) => {
    const error = await rejection(registerFunction({ name: fresh(), ...base, ...change } as never, t.registry));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.statusCode).toBe(400);
    expect(error.message).toMatch(message);
  });

  test('register fills a canary policy from the defaults and keeps what it names', async () => {
    const record = await registerFunction({ name: fresh(), ...base, reservedConcurrency: 10, deployment: { strategy: 'canary', steps: [25] } }, t.registry);
    expect(record.reservedConcurrency).toBe(10);
    expect(record.deployment).toEqual({ strategy: 'canary', steps: [25], stepMinutes: 5, maxErrorRatePercent: 5, minInvocations: 10 });
  });

  test('register accepts valid schedules (rate, cron, at; IANA zones and aliases), environment up to the limit, custom runtime', async () => {
    const schedules = [
      { name: 'nightly', expression: 'cron(0 2 ? * MON-FRI *)', timezone: 'Asia/Kolkata', payload: { report: 'daily' } },
      { name: 'five', expression: 'rate(5 minutes)', timezone: 'UTC' },
    ];
    const record = await registerFunction({
      name: fresh(),
      runtime: 'provided.al2023',
      memoryMb: 512,
      timeoutSeconds: 30,
      environment: { STAGE: 'dev', TABLE_NAME: 't' },
      schedules,
      rateLimit: { requestsPerSecond: 0.5, burst: 1 },
    }, t.registry);
    expect(record).toMatchObject({ handler: 'bootstrap', schedules, environment: { STAGE: 'dev', TABLE_NAME: 't' }, rateLimit: { requestsPerSecond: 0.5, burst: 1 } });
    const valid = [
      'rate(1 minute)', 'rate(2 hours)', 'rate(1 day)', 'cron(15 10 * * ? *)', 'cron(0/15 8-17 ? * MON-FRI *)', 'cron(0 18 L * ? *)',
      'cron(0 10 ? * 6#3 *)', 'cron(0 0 1,15 JAN,JUL ? 2027-2030)', 'at(2027-01-01T00:00:00)', 'cron(0 9 LW * ? *)',
      'cron(0 9 15W * ? *)', 'cron(0 9 ? * 5L *)', 'cron(0 9 ? * FRI#2 *)', 'cron(*/5 * * * ? *)',
    ];
    for (const expression of valid) {
      await expect(registerFunction({ name: fresh(), ...base, schedules: [{ name: 'a', expression, timezone: 'America/New_York' }] }, t.registry))
        .resolves.toMatchObject({ schedules: [{ expression }] });
    }
    // 4096 bytes of JSON exactly: {"BIG":"…"} is 10 bytes + the value.
    await expect(registerFunction({ name: fresh(), ...base, environment: { BIG: 'x'.repeat(4086) } }, t.registry)).resolves.toBeDefined();
  });

  test('update: If-Match on the version; a stale version is 412 naming the current one; fields not given are kept', async () => {
    const name = fresh();
    const registeredAt = new Date(t.clock.ms).toISOString();
    await registerFunction({ name, ...base, environment: { A1: '1' } }, t.registry);
    t.advance(1);
    const updatedAt = new Date(t.clock.ms).toISOString();
    const updated = await updateFunction(name, { memoryMb: 256, rateLimit: { requestsPerSecond: 2, burst: 4 } }, 1, t.registry);
    expect(updated).toMatchObject({ version: 2, memoryMb: 256, rateLimit: { requestsPerSecond: 2, burst: 4 }, environment: { A1: '1' }, updatedAt });
    expect(updated.registeredAt).toBe(registeredAt);

    const stale = await rejection(updateFunction(name, { memoryMb: 512 }, 1, t.registry));
    expect(stale).toBeInstanceOf(VersionMismatchError);
    expect(stale).toMatchObject({ statusCode: 412, code: LambdaRuntimeErrors.VERSION_MISMATCH, currentVersion: 2 });
    expect((await getFunction(name, t.registry))!.memoryMb).toBe(256);

    // The merged configuration is validated as a whole.
    expect((await rejection(updateFunction(name, { runtime: 'provided.al2023' }, 2, t.registry))).message).toMatch(/^handler:/);
    expect((await rejection(updateFunction(name, { name: 'other' }, 2, t.registry))).message).toMatch(/cannot be renamed/);
    expect((await rejection(updateFunction(name, { memoryMb: 256 }, 0, t.registry))).message).toMatch(/^If-Match/);
    expect(await rejection(updateFunction(fresh('absent'), { memoryMb: 256 }, 1, t.registry))).toBeInstanceOf(FunctionNotFoundError);
  });

  test('update: of 6 concurrent updates at one version exactly one wins, the others get 412', async () => {
    const name = fresh();
    await registerFunction({ name, ...base }, t.registry);
    const results = await Promise.allSettled([1, 2, 3, 4, 5, 6].map((i) => updateFunction(name, { timeoutSeconds: i }, 1, t.registry)));
    const won = results.filter((r): r is PromiseFulfilledResult<Awaited<ReturnType<typeof updateFunction>>> => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected' && r.reason instanceof VersionMismatchError)).toHaveLength(5);
    expect(await getFunction(name, t.registry)).toMatchObject({ version: 2, timeoutSeconds: won[0].value.timeoutSeconds });
  });

  test('delete is soft: gone from get and listings, 404 on update and a second delete; 412 with a stale If-Match', async () => {
    const t2 = await runtimeTables();
    try {
      const name = 'to-delete';
      await registerFunction({ name, ...base }, t2.registry);
      await registerFunction({ name: 'kept', ...base }, t2.registry);
      expect(await rejection(deleteFunction(name, t2.registry, { expectedVersion: 7 }))).toMatchObject({ statusCode: 412, currentVersion: 1 });
      t2.advance(5);
      const deleted = await deleteFunction(name, t2.registry, { expectedVersion: 1 });
      expect(deleted).toMatchObject({ version: 2, deletedAt: '2026-11-29T08:00:05.000Z' });
      expect(await getFunction(name, t2.registry)).toBeUndefined();
      expect(await getFunction(name, t2.registry, { includeDeleted: true })).toMatchObject({ deletedAt: '2026-11-29T08:00:05.000Z' });
      const raw = await t2.rawRegistryItem(`FUNCTION#${name}`, 'META');
      expect(raw).not.toHaveProperty('LIST_PK');
      expect(raw).not.toHaveProperty('NAME_SK');
      expect(raw).not.toHaveProperty('CREATED_SK');
      for (const order of ['name', 'newest'] as const) {
        expect((await listFunctions({ order }, t2.registry)).functions.map((f) => f.name)).toEqual(['kept']);
      }
      expect(await rejection(updateFunction(name, { memoryMb: 256 }, 2, t2.registry))).toBeInstanceOf(FunctionNotFoundError);
      expect(await rejection(deleteFunction(name, t2.registry))).toBeInstanceOf(FunctionNotFoundError);
      expect(await rejection(deleteFunction('never-there', t2.registry))).toBeInstanceOf(FunctionNotFoundError);
    } finally {
      t2.clients.ddb.destroy();
    }
  });

  test('a deleted name can be registered again only after its purge; builds from before the deletion never deploy to the new function', async () => {
    const name = fresh();
    await registerFunction({ name, ...base }, t.registry);
    t.advance(10);
    const oldBuild = build('build-old', new Date(t.clock.ms).toISOString(), '1');
    t.advance(10);
    const { deletedAt } = await deleteFunction(name, t.registry);
    expect(await recordDeployment(name, oldBuild, t.registry)).toMatchObject({ outcome: 'deleted' });

    const early = await rejection(registerFunction({ name, ...base }, t.registry));
    expect(early).toBeInstanceOf(FunctionBeingDeletedError);
    expect(early).toMatchObject({ statusCode: 409, code: LambdaRuntimeErrors.FUNCTION_BEING_DELETED });

    t.advance(60);
    expect(await markPurged(name, t.registry)).toBe(true);
    expect(await markPurged(name, t.registry)).toBe(false);
    expect(await markPurged(fresh('absent'), t.registry)).toBe(false);
    const purged = await t.rawRegistryItem(`FUNCTION#${name}`, 'META');
    expect(purged!.ttl).toBe(Math.floor(t.clock.ms / 1000) + 7 * 24 * 3600);

    const racing = await Promise.allSettled([1, 2, 3].map(() => registerFunction({ name, ...base }, t.registry)));
    expect(racing.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(racing.filter((r) => r.status === 'rejected' && r.reason instanceof FunctionExistsError)).toHaveLength(2);
    const again = await getFunction(name, t.registry);
    expect(again).toMatchObject({ version: 1, registeredAt: new Date(t.clock.ms).toISOString() });
    expect(again).not.toHaveProperty('deletedAt');
    const raw = await t.rawRegistryItem(`FUNCTION#${name}`, 'META');
    expect(raw).toMatchObject({ buildsNotBefore: deletedAt, LIST_PK: 'FUNCTIONS' });
    expect(raw).not.toHaveProperty('ttl');

    // A redelivered BuildCompleted of the old incarnation: nothing; a build after the deletion: deployed.
    expect(await recordDeployment(name, oldBuild, t.registry)).toMatchObject({ outcome: 'stale' });
    expect(await recordDeployment(name, build('build-new', new Date(t.clock.ms).toISOString(), '1'), t.registry)).toMatchObject({
      outcome: 'deployed', record: { currentDeployment: { buildId: 'build-new', lambdaVersion: '1' } },
    });
  });

  test('recordDeployment: idempotent on the build id; an older build arriving late changes nothing', async () => {
    const name = fresh();
    await registerFunction({ name, ...base }, t.registry);
    const b1 = build('b1', '2026-11-29T08:01:00.000Z', '1');
    const b2 = build('b2', '2026-11-29T08:02:00.000Z', '2');
    const first = await recordDeployment(name, { ...b1, codeSha256: 'abc' }, t.registry);
    expect(first).toMatchObject({ outcome: 'deployed', record: { currentDeployment: { ...b1, codeSha256: 'abc', deployedAt: expect.any(String) }, version: 1 } });
    expect(first.outcome === 'deployed' && first.record).not.toHaveProperty('previousDeployment'); // NULL until a second deploy
    expect(await recordDeployment(name, b1, t.registry)).toMatchObject({ outcome: 'duplicate' });
    const second = await recordDeployment(name, b2, t.registry);
    expect(second).toMatchObject({ outcome: 'deployed', record: { currentDeployment: b2, previousDeployment: { ...b1, codeSha256: 'abc' }, latestBuild: `${b2.buildCreatedAt}#b2` } });
    const late = await recordDeployment(name, b1, t.registry);
    expect(late).toMatchObject({ outcome: 'stale', record: { currentDeployment: b2 } });
    expect(await recordDeployment(fresh('absent'), b1, t.registry)).toEqual({ outcome: 'not_found' });
    expect((await getFunction(name, t.registry))!.version).toBe(1); // deploys do not move the configuration's ETag
    expect((await rejection(recordDeployment(name, { ...b1, buildCreatedAt: '2026-11-29' }, t.registry))).message).toMatch(/^buildCreatedAt/);
    expect((await rejection(recordDeployment(name, { ...b1, lambdaVersion: '$LATEST' }, t.registry))).message).toMatch(/^lambdaVersion/);
  });

  test('recordDeployment: concurrent deploys of one function end with the newest build current, whatever the order', async () => {
    const name = fresh();
    await registerFunction({ name, ...base }, t.registry);
    const builds = Array.from({ length: 12 }, (_, i) => build(`b${String(i).padStart(2, '0')}`, new Date(Date.UTC(2026, 10, 29, 9, 0, i)).toISOString(), String(i + 1)));
    const shuffled = [...builds].sort(() => Math.random() - 0.5);
    const results = await Promise.all(shuffled.map((b) => recordDeployment(name, b, t.registry)));
    const newest = builds[builds.length - 1];
    expect(results[shuffled.indexOf(newest)].outcome).toBe('deployed');
    expect(results.every((r) => r.outcome === 'deployed' || r.outcome === 'stale')).toBe(true);
    const final = await getFunction(name, t.registry);
    expect(final!.currentDeployment).toMatchObject(newest);
    expect(final!.latestBuild).toBe(`${newest.buildCreatedAt}#${newest.buildId}`);
    // Redeliveries of all of them afterwards: nothing moves.
    const again = await Promise.all(builds.map((b) => recordDeployment(name, b, t.registry)));
    expect(again.map((r) => r.outcome)).toEqual([...Array(11).fill('stale'), 'duplicate']);
    expect((await getFunction(name, t.registry))!.currentDeployment).toEqual(final!.currentDeployment);
  });

  test('rollback swaps current and previous once; a retried rollback is 412; a redelivered newer build does not undo it', async () => {
    const name = fresh();
    await registerFunction({ name, ...base }, t.registry);
    expect(await rejection(rollbackDeployment(name, t.registry))).toBeInstanceOf(NothingToRollBackError);
    const b1 = build('r1', '2026-11-29T08:01:00.000Z', '1');
    const b2 = build('r2', '2026-11-29T08:02:00.000Z', '2');
    await recordDeployment(name, b1, t.registry);
    expect(await rejection(rollbackDeployment(name, t.registry))).toMatchObject({ statusCode: 409, code: LambdaRuntimeErrors.NOTHING_TO_ROLL_BACK });
    await recordDeployment(name, b2, t.registry);
    const rolled = await rollbackDeployment(name, t.registry, { fromLambdaVersion: '2' });
    expect(rolled).toMatchObject({ currentDeployment: b1, previousDeployment: b2 });
    expect(await rejection(rollbackDeployment(name, t.registry, { fromLambdaVersion: '2' }))).toMatchObject({ statusCode: 412, currentVersion: 1 });
    expect(await recordDeployment(name, b2, t.registry)).toMatchObject({ outcome: 'duplicate', record: { currentDeployment: b1 } });
    expect(await rejection(rollbackDeployment(fresh('absent'), t.registry))).toBeInstanceOf(FunctionNotFoundError);
    // A new build after the rollback deploys, the rolled-back-to one becoming previous.
    const b3 = build('r3', '2026-11-29T08:03:00.000Z', '3');
    expect(await recordDeployment(name, b3, t.registry)).toMatchObject({ outcome: 'deployed', record: { currentDeployment: b3, previousDeployment: b1 } });
  });

  test('rollback onlyToOlder (the API\'s): once; a second or retried one is 409, never a roll forward; 412 when the current version moved', async () => {
    const name = fresh();
    await registerFunction({ name, ...base }, t.registry);
    const b1 = build('o1', '2026-11-29T08:01:00.000Z', '1');
    const b2 = build('o2', '2026-11-29T08:02:00.000Z', '2');
    await recordDeployment(name, b1, t.registry);
    await recordDeployment(name, b2, t.registry);
    expect(await rejection(rollbackDeployment(name, t.registry, { fromLambdaVersion: '1', onlyToOlder: true }))).toMatchObject({ statusCode: 412 });
    expect(await rollbackDeployment(name, t.registry, { fromLambdaVersion: '2', onlyToOlder: true }))
      .toMatchObject({ currentDeployment: b1, previousDeployment: b2 });
    // The previous deployment is now the newer, rolled-back one: nothing older to go to.
    expect(await rejection(rollbackDeployment(name, t.registry, { fromLambdaVersion: '1', onlyToOlder: true })))
      .toMatchObject({ statusCode: 409, code: LambdaRuntimeErrors.NOTHING_TO_ROLL_BACK });
    expect(await rejection(rollbackDeployment(name, t.registry, { onlyToOlder: true }))).toBeInstanceOf(NothingToRollBackError);
    expect((await getFunction(name, t.registry))!.currentDeployment).toMatchObject(b1);
    // Same createdAt: the build id breaks the tie, as in latestBuild.
    const tie = fresh();
    await registerFunction({ name: tie, ...base }, t.registry);
    await recordDeployment(tie, build('a-build', '2026-11-29T08:05:00.000Z', '1'), t.registry);
    await recordDeployment(tie, build('b-build', '2026-11-29T08:05:00.000Z', '2'), t.registry);
    expect(await rollbackDeployment(tie, t.registry, { onlyToOlder: true })).toMatchObject({ currentDeployment: { buildId: 'a-build' } });
    expect(await rejection(rollbackDeployment(tie, t.registry, { onlyToOlder: true }))).toBeInstanceOf(NothingToRollBackError);
  });

  test('planDeployment answers, without writing, what recordDeployment would (the pre-check before any Lambda call)', async () => {
    const name = fresh();
    await registerFunction({ name, ...base }, t.registry);
    const b1 = build('p1', '2026-11-29T08:01:00.000Z', '1');
    const b2 = build('p2', '2026-11-29T08:02:00.000Z', '2');
    expect(planDeployment(await getFunction(name, t.registry), b1)).toBe('deploy');
    await recordDeployment(name, b2, t.registry);
    const record = await getFunction(name, t.registry);
    expect(planDeployment(record, b2)).toBe('duplicate');
    expect(planDeployment(record, b1)).toBe('stale');
    expect(planDeployment(record, build('p3', '2026-11-29T08:03:00.000Z', '3'))).toBe('deploy');
    expect(planDeployment(undefined, b1)).toBe('not_found');
    await deleteFunction(name, t.registry);
    expect(planDeployment(await getFunction(name, t.registry, { includeDeleted: true }), b1)).toBe('deleted');
    // A name registered again after its purge: builds from before the deletion are stale.
    await markPurged(name, t.registry);
    t.advance(1);
    await registerFunction({ name, ...base }, t.registry);
    const reborn = await getFunction(name, t.registry);
    expect(planDeployment(reborn, build('p5', reborn!.buildsNotBefore!, '1'))).toBe('stale');
    expect(planDeployment(reborn, build('p6', new Date(Date.parse(reborn!.buildsNotBefore!) + 1).toISOString(), '1'))).toBe('deploy');
  });

  test('a build for an unregistered name registers it (runtime and handler from the build); a live one is left as it is', async () => {
    const name = fresh();
    const first = await ensureRegisteredForBuild({ functionName: name, runtime: 'python3.13', handler: 'app.main' }, t.registry);
    expect(first).toMatchObject({ created: true, record: { name, runtime: 'python3.13', handler: 'app.main', memoryMb: 128, version: 1 } });
    const again = await ensureRegisteredForBuild({ functionName: name, runtime: 'nodejs24.x', handler: 'index.handler' }, t.registry);
    expect(again).toEqual({ created: false, record: first.record });
    const racing = fresh();
    const results = await Promise.all([1, 2, 3, 4].map(() => ensureRegisteredForBuild({ functionName: racing, runtime: 'nodejs24.x', handler: 'index.handler' }, t.registry)));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    // BuildPipeline accepts names the registry does not: a 400 the deploy handler logs and drops.
    expect((await rejection(ensureRegisteredForBuild({ functionName: 'My_Func', runtime: 'nodejs24.x', handler: 'index.handler' }, t.registry))).message)
      .toMatch(/^functionName:/);
    expect((await rejection(ensureRegisteredForBuild({ functionName: fresh(), runtime: 'container', handler: 'Dockerfile' }, t.registry))).message)
      .toMatch(/^runtime:/);
    const deleting = fresh();
    await registerFunction({ name: deleting, ...base }, t.registry);
    await deleteFunction(deleting, t.registry);
    expect(await rejection(ensureRegisteredForBuild({ functionName: deleting, runtime: 'nodejs24.x', handler: 'index.handler' }, t.registry)))
      .toBeInstanceOf(FunctionBeingDeletedError);
  });

  test('list: by name and newest first, paged; a token is bound to its listing', async () => {
    const t2 = await runtimeTables();
    try {
      const names = ['delta', 'alpha', 'echo', 'charlie', 'bravo'];
      for (const name of names) {
        await registerFunction({ name, ...base }, t2.registry);
        t2.advance(1);
      }
      const all = async (order: 'name' | 'newest') => {
        const seen: string[] = [];
        let nextToken: string | undefined;
        let pages = 0;
        do {
          const page = await listFunctions({ order, limit: 2, nextToken }, t2.registry);
          expect(page.functions.length).toBeLessThanOrEqual(2);
          seen.push(...page.functions.map((f) => f.name));
          nextToken = page.nextToken;
          pages++;
        } while (nextToken);
        expect(pages).toBeGreaterThanOrEqual(3);
        return seen;
      };
      expect(await all('name')).toEqual(['alpha', 'bravo', 'charlie', 'delta', 'echo']);
      expect(await all('newest')).toEqual([...names].reverse());
      const first = await listFunctions({ order: 'name', limit: 2 }, t2.registry);
      expect(first.functions[0]).not.toHaveProperty('LIST_PK');
      expect((await rejection(listFunctions({ order: 'newest', nextToken: first.nextToken }, t2.registry))).message).toMatch(/^nextToken/);
      expect((await rejection(listFunctions({ nextToken: 'garbage' }, t2.registry))).message).toMatch(/^nextToken/);
      const forged = Buffer.from(JSON.stringify({ PK: 'x', SK: 'META', LIST_PK: 'OTHER', NAME_SK: 'x' })).toString('base64url');
      expect((await rejection(listFunctions({ nextToken: forged }, t2.registry))).message).toMatch(/^nextToken/);
      expect((await rejection(listFunctions({ limit: 101 }, t2.registry))).message).toMatch(/^limit/);
      expect((await rejection(listFunctions({ order: 'size' as never }, t2.registry))).message).toMatch(/^order/);
    } finally {
      t2.clients.ddb.destroy();
    }
  });
});
