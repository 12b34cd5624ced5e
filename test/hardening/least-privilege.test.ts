import { actionsByFunction } from './role-actions';
import { environmentStack, resourcesOf } from './template-walk';

/**
 * Each function's role may do exactly what its code calls, reviewed against the SDK
 * commands in its sources (TransactWriteItems is authorized per item: Put, Update,
 * Delete, ConditionCheck). Writing and reading a table under a customer-managed key takes
 * `kms:Decrypt`; sending to an encrypted queue or topic, or putting an SSE-KMS object,
 * `kms:GenerateDataKey`. X-Ray's two actions are every function's.
 */
const XRAY = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];
/** What Lambda's event source mapping needs on an SQS queue, in the function's role. */
const SQS_CONSUMER = ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'];
/** Powertools idempotency's persistence layer on its table. */
const IDEMPOTENCY = ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'];

const ALLOWED: Record<string, string[]> = {
  // GetItem / Query on the table and its two indexes; the page-token key.
  'product-api-read': ['dynamodb:GetItem', 'dynamodb:Query', 'kms:Decrypt', 'secretsmanager:GetSecretValue'],
  // Existence check, then Publish to the encrypted changes topic.
  'product-api-accept': ['dynamodb:GetItem', 'kms:Decrypt', 'kms:GenerateDataKey', 'sns:Publish'],
  // One conditional UpdateItem per change, under Powertools idempotency.
  'product-api-writer': [...IDEMPOTENCY, 'kms:Decrypt', ...SQS_CONSUMER],
  // One PutObject (SSE-KMS) per change.
  'product-api-audit': ['kms:Decrypt', 'kms:GenerateDataKey', 's3:PutObject', ...SQS_CONSUMER],
  // Two GetItem, then one TransactWriteItems of three Puts (or the ledger Put alone).
  'payment-outbox-webhook': ['dynamodb:GetItem', 'dynamodb:PutItem', 'kms:Decrypt', 'secretsmanager:GetSecretValue'],
  // Stream read (CDK's grant includes DescribeKey), PutEvents, the on-failure destination queue.
  'payment-outbox-publisher': [
    'dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams',
    'events:PutEvents', 'kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKey', 'sqs:SendMessage',
  ],
  // Query of the outbox-by-time index only, PutEvents.
  'payment-outbox-replay': ['dynamodb:Query', 'events:PutEvents', 'kms:Decrypt'],
  // StartExecution; refused events sent to the DLQ itself.
  'enrollment-saga-starter': ['kms:Decrypt', 'kms:GenerateDataKey', ...SQS_CONSUMER, 'sqs:SendMessage', 'states:StartExecution'],
  // GetItem, TransactWriteItems (Put purchase, ConditionCheck guard).
  'enrollment-saga-create-purchase': [...IDEMPOTENCY, 'dynamodb:ConditionCheckItem', 'kms:Decrypt'],
  // GetItem, Query (the course's trainers), TransactWriteItems (Update seat, Put allocation and guard).
  'enrollment-saga-allocate-trainer': [...IDEMPOTENCY, 'dynamodb:Query', 'kms:Decrypt'],
  // GetItem, conditional PutItem per session, UpdateItem of the window.
  'enrollment-saga-schedule-sessions': [...IDEMPOTENCY, 'kms:Decrypt'],
  // TransactWriteItems (Update purchase, ConditionCheck refund record).
  'enrollment-saga-complete-enrollment': [...IDEMPOTENCY, 'dynamodb:ConditionCheckItem', 'kms:Decrypt'],
  // Reads, sessions Query, TransactWriteItems (Update, Delete guards), failure record Put.
  'enrollment-saga-compensate': [...IDEMPOTENCY, 'dynamodb:Query', 'kms:Decrypt'],
  // TopUpIndex Query, session PutItem, window UpdateItem.
  'enrollment-saga-top-up': ['dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem', 'kms:Decrypt'],
  // The compensation's writes, the fact's once-record, PutEvents; refused events to the DLQ.
  'enrollment-saga-cancel-on-refund': [...IDEMPOTENCY, 'dynamodb:Query', 'events:PutEvents', 'kms:Decrypt', 'kms:GenerateDataKey', ...SQS_CONSUMER, 'sqs:SendMessage'],
  'enrollment-saga-compensate-stopped': [...IDEMPOTENCY, 'dynamodb:Query', 'events:PutEvents', 'kms:Decrypt', ...SQS_CONSUMER],
};

describe('least privilege: every role has exactly the actions its code calls', () => {
  const actions = actionsByFunction(resourcesOf(environmentStack('prod')));

  test('every function has an allow-list', () => {
    expect(Object.keys(actions).sort()).toEqual(Object.keys(ALLOWED).sort());
  });

  test.each(Object.keys(ALLOWED))('%s', (serviceName) => {
    expect(actions[serviceName]).toEqual([...new Set([...ALLOWED[serviceName], ...XRAY])].sort());
  });

  test('no role has a wildcard action, Scan, BatchWriteItem, kms:Encrypt or kms:ReEncrypt*', () => {
    const forbidden = /\*|dynamodb:Scan|dynamodb:BatchWriteItem|kms:Encrypt|kms:ReEncrypt/;
    expect(Object.entries(actions).flatMap(([fn, list]) => list.filter((a) => forbidden.test(a)).map((a) => `${fn}: ${a}`))).toEqual([]);
  });
});
