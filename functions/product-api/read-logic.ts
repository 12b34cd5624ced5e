import { DynamoDBDocumentClient, GetCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { decodeNextToken, encodeNextToken, priceBounds, type ListQuery } from './list-query';
import { ACTIVE_PARTITION, NAME_INDEX, PRICE_INDEX, PRODUCT_SK, Product, isActive, namePartition, productPk, toPublicProduct } from './product-item';
import { NotFoundError } from '../shared/errors';

export interface ReadServices {
  readonly db: DynamoDBDocumentClient;
  readonly tableName: string;
  /** The key that signs and verifies page tokens; read only when a list pages. */
  readonly pageTokenKey: () => Promise<Uint8Array>;
}

/** One active product, or 404 (deleted products are gone to readers). */
export async function getProduct(services: ReadServices, productId: string): Promise<Product> {
  const { Item } = await services.db.send(new GetCommand({
    TableName: services.tableName,
    Key: { PK: productPk(productId), SK: PRODUCT_SK },
  }));
  if (!isActive(Item)) throw new NotFoundError(`Product ${productId} not found`);
  return toPublicProduct(Item);
}

/** A page of active products from one of the sparse indexes. */
export async function listProducts(services: ReadServices, q: ListQuery): Promise<{ items: Product[]; nextToken?: string }> {
  const input: QueryCommandInput = { TableName: services.tableName, Limit: q.limit };
  if (q.kind === 'price') {
    const [low, high] = priceBounds(q);
    Object.assign(input, {
      IndexName: PRICE_INDEX,
      KeyConditionExpression: 'GSI1_PK = :pk AND GSI1_SK BETWEEN :low AND :high',
      ExpressionAttributeValues: { ':pk': ACTIVE_PARTITION, ':low': low, ':high': high },
    });
  } else {
    Object.assign(input, {
      IndexName: NAME_INDEX,
      KeyConditionExpression: 'GSI2_PK = :pk',
      ExpressionAttributeValues: { ':pk': namePartition(q.name) },
    });
  }
  if (q.nextToken !== undefined) input.ExclusiveStartKey = decodeNextToken(q, q.nextToken, await services.pageTokenKey());
  const page = await services.db.send(new QueryCommand(input));
  const items = (page.Items ?? []).filter(isActive).map(toPublicProduct);
  if (!page.LastEvaluatedKey) return { items };
  return { items, nextToken: encodeNextToken(q, page.LastEvaluatedKey, await services.pageTokenKey()) };
}
