import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { CallerIdentitySource } from './contract';
import { PRODUCT_BODY_SCHEMA } from './product-body-model';
import type { ApiAuthorization } from '../core/api-authorization';
import { acknowledgeFindings } from '../core/nag';
import { propError } from '../core/prop-checks';
import { createServiceRestApi, problemTemplate } from '../core/service-rest-api';

export interface ProductRestApiProps {
  readonly readFunction: lambda.IFunction;
  readonly acceptFunction: lambda.IFunction;
  /** Encrypts the API key secrets. */
  readonly encryptionKey: kms.IKey;
  readonly throttle: apigw.ThrottleSettings;
  readonly quota: apigw.QuotaSettings;
  readonly logRetention: logs.RetentionDays;
  readonly logEncryptionKey?: kms.IKey;
  readonly authorization: ApiAuthorization;
  /** One API key per named client; empty: methods need no key. */
  readonly apiKeys: readonly string[];
}

/** The client name whose key keeps the construct ids of the single key of earlier versions. */
export const DEFAULT_API_KEY_CLIENT = 'default';
const CLIENT_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * `/v1.0/products` on a REST API: every method uses the construct's authorization, and
 * needs an API key when keys are configured (one per client, each value in a secret of its
 * own, all on one usage plan); bodies are validated at the gateway; access logs are JSON.
 */
export class ProductRestApi extends Construct {
  public readonly api: apigw.RestApi;
  /** Each client's API key, by client name. */
  public readonly apiKeys: Record<string, apigw.IApiKey> = {};
  /** Each client's API key value, by client name. */
  public readonly apiKeySecrets: Record<string, secretsmanager.Secret> = {};
  public readonly usagePlan: apigw.UsagePlan;

  constructor(scope: Construct, id: string, props: ProductRestApiProps) {
    super(scope, id);
    checkClientNames(scope, props.authorization, props.apiKeys);
    const auth = props.authorization.bind(this);
    this.api = createServiceRestApi(this, {
      description: `${this.node.path}: product catalogue`,
      throttle: props.throttle,
      logRetention: props.logRetention,
      logEncryptionKey: props.logEncryptionKey,
      defaultMethodOptions: { ...auth, apiKeyRequired: props.apiKeys.length > 0 },
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

    this.usagePlan = this.api.addUsagePlan('UsagePlan', {
      throttle: props.throttle,
      quota: props.quota,
      apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
    });
    for (const client of props.apiKeys) {
      // The default client keeps the ids of the single key of earlier versions, so an
      // upgrade neither replaces the secret nor changes the key its callers hold.
      const suffix = client === DEFAULT_API_KEY_CLIENT ? '' : `-${client}`;
      const secret = new secretsmanager.Secret(this, `ApiKeySecret${suffix}`, {
        description: `${this.node.path}: API key value of the product API for client '${client}'`,
        encryptionKey: props.encryptionKey,
        generateSecretString: { passwordLength: 40, excludePunctuation: true },
      });
      const apiKey = this.api.addApiKey(`ApiKey${suffix}`, {
        value: secret.secretValue.unsafeUnwrap(),
        description: `client '${client}' of ${this.node.path}`,
      });
      this.usagePlan.addApiKey(apiKey);
      this.apiKeys[client] = apiKey;
      this.apiKeySecrets[client] = secret;
      acknowledgeFindings(secret, Object.fromEntries([
        'AwsSolutions-SMG4', 'NIST.800.53.R5-SecretsManagerRotationEnabled',
      ].map((rule) => [rule, 'An API Gateway key cannot rotate in place: rotate by putting a new value in the secret and redeploying, ' +
        'client by client (README, ProductApi).'])));
    }

    const { identitySource } = props.authorization;
    const findings: Record<string, string> = {
      'AwsSolutions-APIG3': 'No WAF web ACL is created: a web ACL is billed per ACL and rule, and its rules (rate limits, IP sets, ' +
        'managed rule groups) are the user\'s policy. Associate yours with `api.deploymentStage` (README).',
    };
    if (identitySource === CallerIdentitySource.API_KEY) {
      findings['AwsSolutions-APIG4'] = 'Authorization is `ApiAuthorization.apiKey()`, chosen by the user (the default, kept ' +
        'for compatibility): an API key identifies a usage-plan client, it does not authenticate a caller. README says so and ' +
        'offers IAM, Cognito and custom authorizers (`authorization`).';
    }
    if (identitySource !== CallerIdentitySource.COGNITO) {
      findings['AwsSolutions-COG4'] = `Callers are identified by ${identitySource === CallerIdentitySource.API_KEY ? 'API keys' :
        identitySource === CallerIdentitySource.IAM ? 'IAM (SigV4)' : 'the user\'s own authorizer'}, as chosen in \`authorization\`; ` +
        'a Cognito user pool is one of the options (`ApiAuthorization.cognito`).';
    }
    acknowledgeFindings(this.api, findings);
  }
}

function checkClientNames(scope: Construct, authorization: ApiAuthorization, clients: readonly string[]): void {
  if (authorization.identitySource === CallerIdentitySource.API_KEY && clients.length === 0) {
    throw propError(scope, 'apiKeys', 'API-key authorization needs at least one client key; pass names, e.g. [\'mobile\', \'partner\'], or choose another `authorization`');
  }
  const seen = new Set<string>();
  for (const client of clients) {
    if (!CLIENT_NAME.test(client)) throw propError(scope, 'apiKeys', `client name '${client}' must be 1-64 characters of A-Z, a-z, 0-9, '_' or '-'`);
    if (seen.has(client)) throw propError(scope, 'apiKeys', `client name '${client}' appears twice`);
    seen.add(client);
  }
}
