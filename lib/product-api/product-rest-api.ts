import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { PRODUCT_BODY_SCHEMA } from './product-body-model';
import { acknowledgeFindings } from '../core/nag';
import { createServiceRestApi, problemTemplate } from '../core/service-rest-api';

export interface ProductRestApiProps {
  readonly readFunction: lambda.IFunction;
  readonly acceptFunction: lambda.IFunction;
  readonly encryptionKey: kms.IKey;
  readonly throttle: apigw.ThrottleSettings;
  readonly quota: apigw.QuotaSettings;
  readonly logRetention: logs.RetentionDays;
}

/**
 * `/v1.0/products` on a REST API: every method needs an API key, the key's value lives in
 * Secrets Manager, bodies are validated at the gateway, access logs are JSON.
 */
export class ProductRestApi extends Construct {
  public readonly api: apigw.RestApi;
  public readonly apiKeySecret: secretsmanager.Secret;
  public readonly usagePlan: apigw.UsagePlan;

  constructor(scope: Construct, id: string, props: ProductRestApiProps) {
    super(scope, id);
    this.api = createServiceRestApi(this, {
      description: `${this.node.path}: product catalogue`,
      throttle: props.throttle,
      logRetention: props.logRetention,
      defaultMethodOptions: { apiKeyRequired: true },
    });

    const bodyValidator = this.api.addRequestValidator('BodyValidator', { validateRequestBody: true, validateRequestParameters: true });
    const paramsValidator = this.api.addRequestValidator('ParamsValidator', { validateRequestParameters: true });
    const productModel = this.api.addModel('ProductModel', { contentType: 'application/json', schema: PRODUCT_BODY_SCHEMA });
    const read = new apigw.LambdaIntegration(props.readFunction);
    const accept = new apigw.LambdaIntegration(props.acceptFunction);
    const withBody = { requestValidator: bodyValidator, requestModels: { 'application/json': productModel } };
    const withId = { requestValidator: paramsValidator, requestParameters: { 'method.request.path.productId': true } };

    const products = this.api.root.addResource('v1.0').addResource('products');
    products.addMethod('GET', read);
    products.addMethod('POST', accept, withBody);
    const product = products.addResource('{productId}');
    product.addMethod('GET', read, withId);
    product.addMethod('PUT', accept, { ...withBody, requestParameters: withId.requestParameters });
    product.addMethod('DELETE', accept, withId);

    // Gateway-generated errors (400 from the validator, 403 without a key) keep the
    // library's problem shape, with the request id as the correlation id.
    this.api.addGatewayResponse('BadBody', { type: apigw.ResponseType.BAD_REQUEST_BODY, templates: problemTemplate('VALIDATION_FAILED') });
    this.api.addGatewayResponse('BadParameters', { type: apigw.ResponseType.BAD_REQUEST_PARAMETERS, templates: problemTemplate('VALIDATION_FAILED') });

    this.apiKeySecret = new secretsmanager.Secret(this, 'ApiKeySecret', {
      description: `${this.node.path}: API key value of the product API`,
      encryptionKey: props.encryptionKey,
      generateSecretString: { passwordLength: 40, excludePunctuation: true },
    });
    const apiKey = this.api.addApiKey('ApiKey', { value: this.apiKeySecret.secretValue.unsafeUnwrap() });
    this.usagePlan = this.api.addUsagePlan('UsagePlan', {
      throttle: props.throttle,
      quota: props.quota,
      apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
    });
    this.usagePlan.addApiKey(apiKey);

    acknowledgeFindings(this.apiKeySecret, {
      'AwsSolutions-SMG4': 'An API Gateway key cannot rotate in place: rotate by updating the secret and redeploying (README, ProductApi).',
    });
    acknowledgeFindings(this.api, {
      'AwsSolutions-APIG4': 'The product plan authenticates callers with API keys and a usage plan; add an authorizer through `api` if callers are users.',
      'AwsSolutions-COG4': 'No Cognito user pool: callers are services with API keys (product plan, Q7).',
      'AwsSolutions-APIG3': 'WAF is account-level and priced per web ACL: associate your own through `api.deploymentStage`.',
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]':
        'The API Gateway account logging role uses the AWS managed AmazonAPIGatewayPushToCloudWatchLogs policy, the documented setup.',
    });
  }
}
