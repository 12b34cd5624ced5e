import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { PRODUCTS_TABLE_SCHEMA } from './contract';
import { acknowledgeBackupPlan, secureTableSettings } from '../core/tables';

const S = dynamodb.AttributeType.STRING;

/** The products table: on-demand, PITR, customer-managed encryption, both GSIs, deletion protection when retained. */
export function createProductsTable(scope: Construct, key: kms.IKey, removalPolicy: RemovalPolicy): dynamodb.Table {
  const { partitionKey, sortKey, priceIndex, nameIndex } = PRODUCTS_TABLE_SCHEMA;
  const table = new dynamodb.Table(scope, 'ProductsTable', {
    partitionKey: { name: partitionKey, type: S },
    sortKey: { name: sortKey, type: S },
    ...secureTableSettings(key, removalPolicy),
  });
  acknowledgeBackupPlan(table);
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
