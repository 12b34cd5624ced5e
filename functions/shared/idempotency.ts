import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';

/**
 * Idempotency keyed on the business event id (not the SQS message id, which changes on
 * redrive). Each function gets its own persistence layer: a shared one keeps the first
 * caller's config (key path, prefix).
 */
export function createEventIdempotency(keyPrefix: string, client: DynamoDBClient, tableName: string) {
  const persistenceStore = new DynamoDBPersistenceLayer({
    tableName,
    awsSdkV3Client: client,
  });
  const config = new IdempotencyConfig({ eventKeyJmesPath: 'eventId', throwOnNoIdempotencyKey: true });
  return {
    /** Call once per invocation so in-progress records expire with the Lambda timeout. */
    registerLambdaContext: (context: Context) => config.registerLambdaContext(context),
    wrap: <A extends { eventId: string }, R extends Record<string, unknown>>(fn: (event: A) => Promise<R>) =>
      makeIdempotent(fn, { persistenceStore, config, keyPrefix }),
  };
}
