import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ACTIVE_PARTITION, PRODUCT_SK, changeVersion, namePartition, priceSortKey, productPk } from './product-item';
import type { ProductChange } from './product-schema';
import { ProductEvents } from '../../lib/product-api/contract';
import { isConditionFailure } from '../shared/dynamodb-conditions';

export interface ApplyServices {
  readonly db: DynamoDBDocumentClient;
  readonly tableName: string;
}

export type ApplyOutcome = { outcome: 'applied' | 'stale'; changeVersion: string };

// Newer-wins: a duplicate (same version) or an older change can never overwrite.
const NEWER_ONLY = 'attribute_not_exists(PK) OR changeVersion < :v';
// Delete is terminal: an update accepted while the delete was still in flight (its
// existence check passed) must not bring the product back.
const NEWER_AND_NOT_DELETED = 'attribute_not_exists(PK) OR (changeVersion < :v AND #s <> :deleted)';

/**
 * Applies one accepted change. Writes are UpdateItem so createdAt survives updates; a
 * delete is a soft delete that drops the sparse GSI attributes (gone from lists), and on
 * a missing item it leaves a tombstone so an older create arriving late stays rejected.
 */
export async function applyChange(services: ApplyServices, change: ProductChange): Promise<ApplyOutcome> {
  const { productId, acceptedAt, product } = change.payload;
  const version = changeVersion(acceptedAt, change.eventId);
  const at = new Date(acceptedAt).toISOString();
  const names: Record<string, string> = { '#s': 'status' };
  const values: Record<string, unknown> = { ':v': version, ':at': at, ':id': productId };
  let update: string;
  values[':deleted'] = 'DELETED';
  const isDelete = change.eventType === ProductEvents.DELETED;
  if (isDelete) {
    update = 'SET productId = :id, #s = :deleted, updatedAt = :at, changeVersion = :v REMOVE GSI1_PK, GSI1_SK, GSI2_PK';
  } else {
    if (!product) throw new Error(`${change.eventType} ${change.eventId} carries no product`);
    Object.assign(names, { '#n': 'name' });
    Object.assign(values, {
      ':n': product.name,
      ':p': product.price,
      ':c': product.currency,
      ':active': 'ACTIVE',
      ':g1pk': ACTIVE_PARTITION,
      ':g1sk': priceSortKey(product.price, productId),
      ':g2pk': namePartition(product.name),
    });
    update = 'SET productId = :id, #n = :n, price = :p, currency = :c, #s = :active, createdAt = if_not_exists(createdAt, :at), '
      + 'updatedAt = :at, changeVersion = :v, GSI1_PK = :g1pk, GSI1_SK = :g1sk, GSI2_PK = :g2pk';
    if (product.description !== undefined) {
      values[':d'] = product.description;
      update += ', description = :d';
    } else {
      update += ' REMOVE description';
    }
  }
  try {
    await services.db.send(new UpdateCommand({
      TableName: services.tableName,
      Key: { PK: productPk(productId), SK: PRODUCT_SK },
      UpdateExpression: update,
      ConditionExpression: isDelete ? NEWER_ONLY : NEWER_AND_NOT_DELETED,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    }));
    return { outcome: 'applied', changeVersion: version };
  } catch (error) {
    if (isConditionFailure(error)) return { outcome: 'stale', changeVersion: version };
    throw error;
  }
}
