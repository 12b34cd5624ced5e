import type { ProviderEvent } from './payment-state';
import type { RecordOutcome } from './record-provider-event';

/**
 * The 200 body, field by field in a fixed order: a redelivery is answered from the stored
 * outcome (a DynamoDB map, whose key order is not kept), and must read byte for byte as
 * the first answer did.
 */
export function webhookAnswer(event: ProviderEvent, outcome: RecordOutcome) {
  return {
    received: true,
    providerEventId: event.eventId,
    paymentId: event.paymentId,
    outcome: outcome.outcome,
    ...(outcome.outcome === 'applied'
      ? { status: outcome.status, ...(outcome.outboxEventId ? { outboxEventId: outcome.outboxEventId } : {}) }
      : { reason: outcome.reason, ...(outcome.outcome === 'refused' ? { message: outcome.message } : {}) }),
  };
}
