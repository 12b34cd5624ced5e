/**
 * A write refused by its condition: `ConditionalCheckFailedException` for a single item,
 * `TransactionCanceledException` for a transaction (a condition failed, or a conflicting
 * transaction on one of its items: `cancellationCodes` tells which).
 */
export const isConditionFailure = (error: unknown): boolean =>
  ['TransactionCanceledException', 'ConditionalCheckFailedException'].includes((error as Error)?.name);

/** Per-item codes of a cancelled transaction ('None', 'ConditionalCheckFailed', 'TransactionConflict', ...). */
export const cancellationCodes = (error: unknown): string[] =>
  ((error as { CancellationReasons?: Array<{ Code?: string }> })?.CancellationReasons ?? []).map((r) => r.Code ?? 'None');
