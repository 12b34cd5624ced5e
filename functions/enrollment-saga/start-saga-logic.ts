import { StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import * as z from 'zod/mini';
import { originRefusal, type AcceptedOrigin, type QueuedEvent } from './event-origin';
import type { SagaInput } from './saga-types';
import { envelopeSchema } from '../shared/envelope';
import { describeIssue, issuePath } from '../shared/validation';

const id = z.string().check(z.regex(/^[A-Za-z0-9_-]{1,128}$/));
const enrollmentKeys = z.object({ studentId: z.optional(id), courseId: z.optional(id) });

/**
 * What starts a saga: the event's detail is a library envelope carrying the payment id, the
 * amount paid (minor units) and its currency, and, in the payload or its provider
 * metadata, the student and the course.
 */
export const triggerDetailSchema = envelopeSchema(z.looseObject({
  paymentId: id,
  amount: z.int().check(z.gte(0)),
  currency: z.string().check(z.regex(/^[A-Za-z]{3}$/)),
  ...enrollmentKeys.shape,
  metadata: z.optional(z.looseObject(enrollmentKeys.shape)),
}));
export type TriggerDetail = z.infer<typeof triggerDetailSchema>;

export interface StartServices {
  readonly sfn: SFNClient;
  readonly stateMachineArn: string;
  readonly origin: AcceptedOrigin;
}

/** Execution names allow [A-Za-z0-9-_] and 80 characters; event ids are UUIDs. */
export const executionName = (eventId: string) => eventId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80);

export type StartResult =
  | { readonly started: boolean; readonly executionName: string }
  /** The event can never start a saga (foreign, malformed, incomplete): it goes to the DLQ. */
  | { readonly refused: string };

/** The saga input from a trigger detail, or why there is none. */
export function sagaInputOf(detail: TriggerDetail): SagaInput | string {
  const studentId = detail.payload.studentId ?? detail.payload.metadata?.studentId;
  const courseId = detail.payload.courseId ?? detail.payload.metadata?.courseId;
  if (!studentId || !courseId) return `event ${detail.eventId} names no studentId/courseId (payload or payload.metadata)`;
  const { paymentId, amount, currency } = detail.payload;
  return { sagaId: paymentId, eventId: detail.eventId, correlationId: paymentId, paymentId, studentId, courseId, amount, currency };
}

/**
 * Starts one Standard execution named after the event id: a redelivered event finds the
 * name taken (for 90 days after the execution closes) and starts nothing. An event from
 * another source or account than the accepted ones, or one that cannot start a saga, is
 * refused and starts nothing.
 */
export async function startSaga(services: StartServices, event: QueuedEvent): Promise<StartResult> {
  const foreign = originRefusal(event, services.origin);
  if (foreign) return { refused: `foreign event: ${foreign}` };
  const parsed = (triggerDetailSchema as any)['~standard'].validate(event.detail) as { value?: TriggerDetail; issues?: ReadonlyArray<any> };
  if (parsed.issues?.length) return { refused: `invalid detail at '${issuePath(parsed.issues[0])}': ${describeIssue(parsed.issues[0])}` };
  const input = sagaInputOf(parsed.value!);
  if (typeof input === 'string') return { refused: input };
  const name = executionName(input.eventId);
  try {
    await services.sfn.send(new StartExecutionCommand({ stateMachineArn: services.stateMachineArn, name, input: JSON.stringify(input) }));
    return { started: true, executionName: name };
  } catch (error) {
    if ((error as Error).name === 'ExecutionAlreadyExists') return { started: false, executionName: name };
    throw error;
  }
}
