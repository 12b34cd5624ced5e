/**
 * The `products` table's key schema, as plain data: the construct builds the table from
 * it and the handler tests create their DynamoDB Local table from it, so the two cannot
 * drift. (Shape from the product lambda plan: PK/SK, GSI1 by price, GSI2 by name.)
 */
export const PRODUCTS_TABLE_SCHEMA = {
  partitionKey: 'PK',
  sortKey: 'SK',
  priceIndex: { indexName: 'ProductsByPriceIndex', partitionKey: 'GSI1_PK', sortKey: 'GSI1_SK' },
  nameIndex: { indexName: 'ProductsByNameIndex', partitionKey: 'GSI2_PK' },
} as const;

/**
 * The change fan-out: a FIFO topic (ordered per product, deduplicated on the event id,
 * never on content) delivering the raw envelope to one FIFO queue per consumer. The
 * construct and the handler tests' local topic and queues are built from this.
 */
export const CHANGE_FANOUT_DEFINITION = {
  fifo: true,
  contentBasedDeduplication: false,
  rawMessageDelivery: true,
  consumers: ['writer', 'audit'],
} as const;
