import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledgeFindings } from './nag';

/**
 * The HMAC key of a service's list page tokens (`nextToken`), so an edited token is refused (400)
 * instead of steering a query. Only the service's read functions read it. `lists` names what is
 * paged, `readmeSection` the README section on rotating it.
 */
export function createPageTokenSecret(scope: Construct, key: kms.IKey, lists: string, readmeSection: string): secretsmanager.Secret {
  const secret = new secretsmanager.Secret(scope, 'PageTokenSecret', {
    description: `${scope.node.path}: HMAC key of the ${lists} page tokens`,
    encryptionKey: key,
    generateSecretString: { passwordLength: 64, excludePunctuation: true },
  });
  acknowledgeFindings(secret, Object.fromEntries(['AwsSolutions-SMG4', 'NIST.800.53.R5-SecretsManagerRotationEnabled'].map((rule) => [rule,
    'It only signs page tokens, which live for one listing; rotating it by hand (a new value) makes outstanding tokens 400 ' +
    `and read functions pick it up within the hour (README, ${readmeSection}).`])));
  return secret;
}
