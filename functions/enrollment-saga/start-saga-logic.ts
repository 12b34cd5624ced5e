import { StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import * as z from 'zod/mini';
import type { SagaInput } from './saga-types';
import { envelopeSchema } from '../shared/envelope';

const id = z.string().check(z.regex(/^[A-Za-z0-9_-]{1,128}$/));
const enrollmentKeys = z.object({ studentId: z.optional(id), courseId: z.optional(id) });

/**
 * What triggers a saga: an EventBridge event (as a rule delivers it to SQS) whose detail is
 * a library envelope carrying the payment id and, in the payload or its provider
 * metadata, the student and the course.
 */
export const triggerEventSchema = z.looseObject({
  detail: envelopeSchema(z.looseObject({
    paymentId: id,
    ...enrollmentKeys.shape,
    metadata: z.optional(z.looseObject(enrollmentKeys.shape)),
  })),
});
export type TriggerEvent = z.infer<typeof triggerEventSchema>;

export interface StartServices {
  readonly sfn: SFNClient;
  readonly stateMachineArn: string;
}

/** Execution names allow [A-Za-z0-9-_] and 80 characters; event ids are UUIDs. */
export const executionName = (eventId: string) => eventId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80);

export function sagaInputOf(event: TriggerEvent): SagaInput {
  const { detail } = event;
  const studentId = detail.payload.studentId ?? detail.payload.metadata?.studentId;
  const courseId = detail.payload.courseId ?? detail.payload.metadata?.courseId;
  if (!studentId || !courseId) {
    throw new Error(`Event ${detail.eventId} names no studentId/courseId (payload or payload.metadata): no saga can start`);
  }
  const paymentId = detail.payload.paymentId;
  return { sagaId: paymentId, eventId: detail.eventId, correlationId: paymentId, paymentId, studentId, courseId };
}

/**
 * Starts one Standard execution named after the event id: a redelivered event finds the
 * name taken (for 90 days after the execution closes) and starts nothing.
 */
export async function startSaga(services: StartServices, event: TriggerEvent): Promise<{ started: boolean; executionName: string }> {
  const input = sagaInputOf(event);
  const name = executionName(input.eventId);
  try {
    await services.sfn.send(new StartExecutionCommand({ stateMachineArn: services.stateMachineArn, name, input: JSON.stringify(input) }));
    return { started: true, executionName: name };
  } catch (error) {
    if ((error as Error).name === 'ExecutionAlreadyExists') return { started: false, executionName: name };
    throw error;
  }
}
