import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeFindings } from '../core/nag';
import { createServiceRestApi } from '../core/service-rest-api';

export interface WebhookRestApiProps {
  readonly webhookFunction: lambda.IFunction;
  readonly throttle: apigw.ThrottleSettings;
  readonly logRetention: logs.RetentionDays;
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
    });
    const resource = WEBHOOK_PATH.reduce<apigw.IResource>((parent, part) => parent.addResource(part), this.api.root);
    resource.addMethod('POST', new apigw.LambdaIntegration(props.webhookFunction));

    acknowledgeFindings(this.api, {
      'AwsSolutions-APIG4': 'Payment providers cannot send an API key or a token: the HMAC-SHA256 signature over timestamp and raw body, checked in the handler before anything is parsed, authenticates every request.',
      'AwsSolutions-COG4': 'No Cognito user pool: the caller is a payment provider, authenticated by its signature.',
      'AwsSolutions-APIG3': 'WAF is account-level and priced per web ACL: associate your own through `api.deploymentStage`.',
      'AwsSolutions-APIG2': 'No request validation at the gateway on purpose: the signature covers the raw body, which the handler verifies and then validates.',
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]':
        'The API Gateway account logging role uses the AWS managed AmazonAPIGatewayPushToCloudWatchLogs policy, the documented setup.',
    });
  }
}
