/**
 * The enrollment table, as plain data (the construct and the tests build it from this).
 * One table holds purchases, trainers (seeded by users), allocations, sessions and the
 * guard items that make "one active purchase / allocation per student and course" unique.
 */
export const ENROLLMENT_TABLE_SCHEMA = {
  partitionKey: 'PK',
  sortKey: 'SK',
  /** Allocations whose rolling window still has sessions to schedule (sparse). */
  topUpIndex: { indexName: 'TopUpIndex', partitionKey: 'TOPUP_PK', sortKey: 'TOPUP_SK' },
} as const;
