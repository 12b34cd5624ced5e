import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { acknowledgeFindings } from './nag';

/**
 * What every table of the library gets: on-demand, point-in-time recovery, the construct's
 * own key. A data table also passes its removal policy and gets deletion protection when
 * retained (RETAIN says the data must outlive the stack; deletion protection also stops a
 * console or API delete).
 */
export function secureTableSettings(key: kms.IKey, removalPolicy?: RemovalPolicy) {
  return {
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
    encryptionKey: key,
    ...(removalPolicy ? { removalPolicy, deletionProtection: removalPolicy === RemovalPolicy.RETAIN } : {}),
  } satisfies Partial<dynamodb.TableProps>;
}

/** NIST's backup-plan rule, answered once for every table of the library. */
export function acknowledgeBackupPlan(table: dynamodb.Table): void {
  acknowledgeFindings(table, {
    'NIST.800.53.R5-DynamoDBInBackupPlan': 'Point-in-time recovery is on (35 days of restore points). An AWS Backup plan ' +
      '(vault, schedule, retention, copies) is the account\'s backup policy, usually assigned by tag by the platform team, ' +
      'not a construct\'s: add the table to yours (`BackupResource.fromDynamoDbTable(construct.table)`).',
  });
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
  const table = new dynamodb.Table(scope, 'IdempotencyTable', {
    partitionKey: { name: IDEMPOTENCY_TABLE_SCHEMA.partitionKey, type: dynamodb.AttributeType.STRING },
    timeToLiveAttribute: IDEMPOTENCY_TABLE_SCHEMA.timeToLiveAttribute,
    ...secureTableSettings(key),
    removalPolicy: RemovalPolicy.DESTROY,
  });
  acknowledgeBackupPlan(table);
  return table;
}
