import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { IDEMPOTENCY_TABLE_SCHEMA, PRODUCTS_TABLE_SCHEMA } from './products-table-schema';

const S = dynamodb.AttributeType.STRING;

/** The products table: on-demand, PITR, customer-managed encryption, both GSIs. */
export function createProductsTable(scope: Construct, key: kms.IKey, removalPolicy: RemovalPolicy): dynamodb.Table {
  const { partitionKey, sortKey, priceIndex, nameIndex } = PRODUCTS_TABLE_SCHEMA;
  const table = new dynamodb.Table(scope, 'ProductsTable', {
    partitionKey: { name: partitionKey, type: S },
    sortKey: { name: sortKey, type: S },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
    encryptionKey: key,
    removalPolicy,
  });
  table.addGlobalSecondaryIndex({
    indexName: priceIndex.indexName,
    partitionKey: { name: priceIndex.partitionKey, type: S },
    sortKey: { name: priceIndex.sortKey, type: S },
  });
  table.addGlobalSecondaryIndex({
    indexName: nameIndex.indexName,
    partitionKey: { name: nameIndex.partitionKey, type: S },
  });
  return table;
}

/**
 * Powertools idempotency records. Their TTL expires them, so the table holds hours of
 * data that a restore never needs: it is always destroyed with the stack.
 */
export function createIdempotencyTable(scope: Construct, key: kms.IKey): dynamodb.Table {
  return new dynamodb.Table(scope, 'IdempotencyTable', {
    partitionKey: { name: IDEMPOTENCY_TABLE_SCHEMA.partitionKey, type: S },
    timeToLiveAttribute: IDEMPOTENCY_TABLE_SCHEMA.timeToLiveAttribute,
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
    encryptionKey: key,
    removalPolicy: RemovalPolicy.DESTROY,
  });
}
