import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/** What every table of the library gets: on-demand, point-in-time recovery, the construct's own key. */
export function secureTableSettings(key: kms.IKey) {
  return {
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
    encryptionKey: key,
  } satisfies Partial<dynamodb.TableProps>;
}

/** Powertools idempotency persistence table (its default attribute names); handler tests build theirs from it. */
export const IDEMPOTENCY_TABLE_SCHEMA = {
  partitionKey: 'id',
  timeToLiveAttribute: 'expiration',
} as const;

/**
 * Powertools idempotency records. Their TTL expires them, so the table holds hours of
 * data that a restore never needs: it is always destroyed with the stack.
 */
export function createIdempotencyTable(scope: Construct, key: kms.IKey): dynamodb.Table {
  return new dynamodb.Table(scope, 'IdempotencyTable', {
    partitionKey: { name: IDEMPOTENCY_TABLE_SCHEMA.partitionKey, type: dynamodb.AttributeType.STRING },
    timeToLiveAttribute: IDEMPOTENCY_TABLE_SCHEMA.timeToLiveAttribute,
    ...secureTableSettings(key),
    removalPolicy: RemovalPolicy.DESTROY,
  });
}
