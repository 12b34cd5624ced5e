import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeFindings } from '../core/nag';
import { createServiceRestApi } from '../core/service-rest-api';

export interface WebhookRestApiProps {
  readonly webhookFunction: lambda.IFunction;
  readonly throttle: apigw.ThrottleSettings;
  readonly logRetention: logs.RetentionDays;
  readonly logEncryptionKey?: kms.IKey;
}

/** The path the payment provider is pointed at. */
export const WEBHOOK_PATH = ['v1.0', 'webhooks', 'payments'] as const;

/**
 * `POST /v1.0/webhooks/payments`. No API key and no body model: a provider can send
 * neither, and the handler must see the raw bytes the HMAC signature covers.
 */
export class WebhookRestApi extends Construct {
  public readonly api: apigw.RestApi;

  constructor(scope: Construct, id: string, props: WebhookRestApiProps) {
    super(scope, id);
    this.api = createServiceRestApi(this, {
      description: `${this.node.path}: payment provider webhooks`,
      throttle: props.throttle,
      logRetention: props.logRetention,
      logEncryptionKey: props.logEncryptionKey,
    });
    const resource = WEBHOOK_PATH.reduce<apigw.IResource>((parent, part) => parent.addResource(part), this.api.root);
    resource.addMethod('POST', new apigw.LambdaIntegration(props.webhookFunction));

    acknowledgeFindings(this.api, {
      'AwsSolutions-APIG4': 'No API Gateway authorizer: a payment provider can send neither an API key nor a token. The handler ' +
        'authenticates every request by its HMAC-SHA256 signature over timestamp and raw body (secret shared with the provider) ' +
        'before anything is parsed; unsigned requests still reach the function and are answered 401.',
      'AwsSolutions-COG4': 'No Cognito user pool: the caller is a payment provider, authenticated by its signature, not a user.',
      'AwsSolutions-APIG3': 'No web ACL is created: a WAF web ACL is billed per ACL and rule, and its rules (provider IP ' +
        'allow-lists, rate limits) are the user\'s policy. Associate yours with `api.deploymentStage` (README).',
      'AwsSolutions-APIG2': 'No request validation at the gateway on purpose: the signature covers the raw body, which the ' +
        'handler verifies first and then validates (400 naming the field).',
    });
  }
}
