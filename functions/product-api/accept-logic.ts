import { randomUUID } from 'node:crypto';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Caller } from './caller-identity';
import { PRODUCT_SK, isActive, productPk } from './product-item';
import type { ChangePayload, ProductInput } from './product-schema';
import { PRODUCT_EVENT_SOURCE, ProductEvents, type ProductEventType } from '../../lib/product-api/contract';
import { createEvent, type EventEnvelope } from '../shared/envelope';
import { NotFoundError } from '../shared/errors';

export interface AcceptServices {
  readonly db: DynamoDBDocumentClient;
  readonly sns: SNSClient;
  readonly tableName: string;
  readonly topicArn: string;
  readonly now?: () => number;
}

export interface Accepted {
  readonly productId: string;
  readonly eventId: string;
}

async function assertActive(services: AcceptServices, productId: string): Promise<void> {
  const { Item } = await services.db.send(new GetCommand({
    TableName: services.tableName,
    Key: { PK: productPk(productId), SK: PRODUCT_SK },
    ProjectionExpression: '#s',
    ExpressionAttributeNames: { '#s': 'status' },
  }));
  if (!isActive(Item)) throw new NotFoundError(`Product ${productId} not found`);
}

/** One message group per product keeps its changes in order; the event id dedupes. */
async function publish(
  services: AcceptServices,
  eventType: ProductEventType,
  correlationId: string,
  payload: ChangePayload,
): Promise<EventEnvelope<ChangePayload>> {
  const event = createEvent({ eventType, correlationId, source: PRODUCT_EVENT_SOURCE, payload });
  await services.sns.send(new PublishCommand({
    TopicArn: services.topicArn,
    Message: JSON.stringify(event),
    MessageGroupId: payload.productId,
    MessageDeduplicationId: event.eventId,
    MessageAttributes: {
      correlationId: { DataType: 'String', StringValue: correlationId },
      eventType: { DataType: 'String', StringValue: eventType },
    },
  }));
  return event;
}

const acceptedAt = (services: AcceptServices) => (services.now ?? Date.now)();

/** Who asked for a change, and the request's correlation id: both travel in the change event. */
export interface ChangeRequest {
  readonly correlationId: string;
  readonly caller: Caller;
}

export async function acceptCreate(services: AcceptServices, product: ProductInput, request: ChangeRequest): Promise<Accepted> {
  const productId = randomUUID();
  const payload = { productId, acceptedAt: acceptedAt(services), caller: request.caller, product };
  const event = await publish(services, ProductEvents.CREATED, request.correlationId, payload);
  return { productId, eventId: event.eventId };
}

export async function acceptUpdate(services: AcceptServices, productId: string, product: ProductInput, request: ChangeRequest): Promise<Accepted> {
  await assertActive(services, productId);
  const payload = { productId, acceptedAt: acceptedAt(services), caller: request.caller, product };
  const event = await publish(services, ProductEvents.UPDATED, request.correlationId, payload);
  return { productId, eventId: event.eventId };
}

export async function acceptDelete(services: AcceptServices, productId: string, request: ChangeRequest): Promise<Accepted> {
  await assertActive(services, productId);
  const payload = { productId, acceptedAt: acceptedAt(services), caller: request.caller };
  const event = await publish(services, ProductEvents.DELETED, request.correlationId, payload);
  return { productId, eventId: event.eventId };
}
