import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { ENROLLMENT_TABLE_SCHEMA as S, SAGA_IDEMPOTENCY_TABLE_SCHEMA } from './enrollment-table-schema';

const STRING = dynamodb.AttributeType.STRING;
const secureTable = (key: kms.IKey) => ({
  billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
  pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
  encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
  encryptionKey: key,
});

/** Purchases, trainers, allocations, sessions and their uniqueness guards, in one table. */
export function createEnrollmentTable(scope: Construct, key: kms.IKey, removalPolicy: RemovalPolicy): dynamodb.Table {
  const table = new dynamodb.Table(scope, 'EnrollmentTable', {
    partitionKey: { name: S.partitionKey, type: STRING },
    sortKey: { name: S.sortKey, type: STRING },
    ...secureTable(key),
    removalPolicy,
  });
  table.addGlobalSecondaryIndex({
    indexName: S.topUpIndex.indexName,
    partitionKey: { name: S.topUpIndex.partitionKey, type: STRING },
    sortKey: { name: S.topUpIndex.sortKey, type: STRING },
  });
  return table;
}

/** Powertools idempotency records (hours of TTL-expired data): destroyed with the stack. */
export function createSagaIdempotencyTable(scope: Construct, key: kms.IKey): dynamodb.Table {
  return new dynamodb.Table(scope, 'IdempotencyTable', {
    partitionKey: { name: SAGA_IDEMPOTENCY_TABLE_SCHEMA.partitionKey, type: STRING },
    timeToLiveAttribute: SAGA_IDEMPOTENCY_TABLE_SCHEMA.timeToLiveAttribute,
    ...secureTable(key),
    removalPolicy: RemovalPolicy.DESTROY,
  });
}
