/**
 * A function's schedules on EventBridge Scheduler, reconciled to its registry record: the
 * schedules `{name}.{schedule}` in the platform's group are made to be exactly the record's.
 * Reconciling to the record (not to a change) makes a replayed or out-of-order stream record
 * harmless: every run converges to the same schedules, and a run with nothing to change writes
 * nothing (it lists, and reads each schedule it keeps to compare).
 */
import {
  CreateScheduleCommand, DeleteScheduleCommand, GetScheduleCommand, ListSchedulesCommand, UpdateScheduleCommand,
  type CreateScheduleCommandInput, type GetScheduleCommandOutput, type SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { awsFunctionName, awsScheduleName, LIVE_ALIAS, type FunctionRecord, type ScheduleSettings } from '../../lib/lambda-runtime-service/contract';

export interface ScheduleSyncServices {
  readonly scheduler: SchedulerClient;
  /** The Scheduler group holding every platform schedule. */
  readonly groupName: string;
  /** The platform prefix: the target is `{prefix}-{name}:live`. */
  readonly prefix: string;
  /** `arn:{partition}:lambda:{region}:{account}:function:` */
  readonly functionArnBase: string;
  /** The role Scheduler assumes to invoke the target. */
  readonly roleArn: string;
  /** Where Scheduler sends an invocation it could not deliver. */
  readonly dlqArn: string;
  readonly settings: ScheduleSettings;
}

/** The Create/Update body of one schedule, without its name and group. */
// By name, not instanceof: an error is recognised whichever copy of the SDK made it.
const isError = (error: unknown, name: string) => (error as { name?: string } | undefined)?.name === name;

type ScheduleBody = Omit<CreateScheduleCommandInput, 'Name' | 'GroupName' | 'ClientToken'>;

export interface ScheduleSyncResult {
  readonly created: string[];
  readonly updated: string[];
  readonly deleted: string[];
  readonly unchanged: string[];
}

/** JSON with object keys sorted: the Input depends on the payload's value only, not on the key order DynamoDB returns. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * What Scheduler should hold for the record, by AWS schedule name. Enabled only once the function
 * has a deployment: before that `live` does not exist and every run would go to the DLQ. The
 * deploy writes the META item, so its stream record brings the enable.
 */
export function desiredSchedules(record: FunctionRecord, services: ScheduleSyncServices): Map<string, ScheduleBody> {
  const target = `${services.functionArnBase}${awsFunctionName(services.prefix, record.name)}:${LIVE_ALIAS}`;
  const state = record.currentDeployment ? 'ENABLED' : 'DISABLED';
  return new Map((record.schedules ?? []).map((schedule) => [awsScheduleName(record.name, schedule.name), {
    ScheduleExpression: schedule.expression,
    ScheduleExpressionTimezone: schedule.timezone,
    FlexibleTimeWindow: { Mode: 'OFF' },
    State: state,
    // NONE: a one-time `at()` schedule stays after it ran, so the next sync does not create it again.
    ActionAfterCompletion: 'NONE',
    Target: {
      Arn: target,
      RoleArn: services.roleArn,
      Input: canonicalJson(schedule.payload ?? {}),
      DeadLetterConfig: { Arn: services.dlqArn },
      RetryPolicy: {
        MaximumRetryAttempts: services.settings.maximumRetryAttempts,
        MaximumEventAgeInSeconds: services.settings.maximumEventAgeSeconds,
      },
    },
  } satisfies ScheduleBody]));
}

/** The names of every schedule of the function in the group (all pages). */
export async function listSchedules(name: string, services: ScheduleSyncServices): Promise<string[]> {
  const names: string[] = [];
  let NextToken: string | undefined;
  do {
    const page = await services.scheduler.send(new ListSchedulesCommand({ GroupName: services.groupName, NamePrefix: `${name}.`, NextToken }));
    names.push(...(page.Schedules ?? []).map((s) => s.Name!).filter(Boolean));
    NextToken = page.NextToken;
  } while (NextToken);
  return names;
}

const inputValue = (input: string | undefined): string | undefined => {
  if (input === undefined) return undefined;
  try { return canonicalJson(JSON.parse(input)); } catch { return input; }
};

/** The fields the platform sets, as a schedule holds them; fields it never sets count too (a hand edit is undone). */
function comparable(body: ScheduleBody | GetScheduleCommandOutput): string {
  const t = body.Target;
  return canonicalJson({
    ScheduleExpression: body.ScheduleExpression,
    ScheduleExpressionTimezone: body.ScheduleExpressionTimezone,
    FlexibleTimeWindow: { Mode: body.FlexibleTimeWindow?.Mode, MaximumWindowInMinutes: body.FlexibleTimeWindow?.MaximumWindowInMinutes },
    State: body.State,
    ActionAfterCompletion: body.ActionAfterCompletion ?? 'NONE',
    Description: body.Description,
    StartDate: body.StartDate?.getTime(),
    EndDate: body.EndDate?.getTime(),
    KmsKeyArn: body.KmsKeyArn,
    Target: {
      Arn: t?.Arn,
      RoleArn: t?.RoleArn,
      Input: inputValue(t?.Input),
      DeadLetterArn: t?.DeadLetterConfig?.Arn,
      MaximumRetryAttempts: t?.RetryPolicy?.MaximumRetryAttempts,
      MaximumEventAgeInSeconds: t?.RetryPolicy?.MaximumEventAgeInSeconds,
      // Other target kinds' parameters (ECS, SQS, ...) on a platform schedule are a hand edit.
      other: Object.keys(t ?? {}).filter((k) => !['Arn', 'RoleArn', 'Input', 'DeadLetterConfig', 'RetryPolicy'].includes(k) && t?.[k as keyof typeof t] !== undefined).sort(),
    },
  });
}

async function getSchedule(name: string, services: ScheduleSyncServices): Promise<GetScheduleCommandOutput | undefined> {
  try {
    return await services.scheduler.send(new GetScheduleCommand({ Name: name, GroupName: services.groupName }));
  } catch (error) {
    if (isError(error, 'ResourceNotFoundException')) return undefined; // deleted since the list
    throw error;
  }
}

/** Create, or Update when it exists already (a concurrent sync made it): both write the same body. */
async function putSchedule(name: string, body: ScheduleBody, exists: boolean, services: ScheduleSyncServices): Promise<void> {
  const input = { ...body, Name: name, GroupName: services.groupName };
  if (!exists) {
    try {
      await services.scheduler.send(new CreateScheduleCommand(input));
      return;
    } catch (error) {
      if (!isError(error, 'ConflictException')) throw error;
    }
  }
  try {
    await services.scheduler.send(new UpdateScheduleCommand(input));
  } catch (error) {
    // Deleted between our read and the update: create it (a second race fails the record, which is retried).
    if (!isError(error, 'ResourceNotFoundException')) throw error;
    await services.scheduler.send(new CreateScheduleCommand(input));
  }
}

/** Deletes one schedule; one already gone is fine. */
export async function deleteSchedule(name: string, services: ScheduleSyncServices): Promise<void> {
  try {
    await services.scheduler.send(new DeleteScheduleCommand({ Name: name, GroupName: services.groupName }));
  } catch (error) {
    if (!isError(error, 'ResourceNotFoundException')) throw error;
  }
}

/** Makes the function's schedules exactly the record's: missing ones created, changed ones replaced, extra ones deleted. */
export async function syncSchedules(record: FunctionRecord, services: ScheduleSyncServices): Promise<ScheduleSyncResult> {
  const desired = desiredSchedules(record, services);
  const existing = new Set(await listSchedules(record.name, services));
  const result: ScheduleSyncResult = { created: [], updated: [], deleted: [], unchanged: [] };
  // Sequential: at most maxSchedules (a few) per function, and Scheduler's write quota is per account.
  for (const name of [...existing].filter((n) => !desired.has(n)).sort()) {
    await deleteSchedule(name, services);
    result.deleted.push(name);
  }
  for (const [name, body] of [...desired].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const current = existing.has(name) ? await getSchedule(name, services) : undefined;
    if (current && comparable(current) === comparable(body)) {
      result.unchanged.push(name);
      continue;
    }
    await putSchedule(name, body, current !== undefined, services);
    (current ? result.updated : result.created).push(name);
  }
  return result;
}

/** Deletes every schedule of the function (a deleted function, or a tombstone that must keep none). */
export async function removeSchedules(name: string, services: ScheduleSyncServices): Promise<string[]> {
  const names = await listSchedules(name, services);
  for (const schedule of names) await deleteSchedule(schedule, services);
  return names;
}
