import { RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/** A customer-managed key with rotation on, for one resource of a construct. */
export function createServiceKey(scope: Construct, id: string, purpose: string): kms.Key {
  return new kms.Key(scope, id, {
    description: `${scope.node.path}: ${purpose}`,
    enableKeyRotation: true,
    // Keys outlive the data they protect: a destroyed key makes backups unreadable.
    removalPolicy: RemovalPolicy.RETAIN,
  });
}
