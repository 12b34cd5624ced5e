import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { PRODUCT_BODY_SCHEMA } from './product-body-model';
import { KeyedRestApi, type KeyedRestApiSettings } from '../core/keyed-rest-api';

export interface ProductRestApiProps extends KeyedRestApiSettings {
  readonly readFunction: lambda.IFunction;
  readonly acceptFunction: lambda.IFunction;
}

/** The client name whose key keeps the construct ids of the single key of earlier versions. */
export const DEFAULT_API_KEY_CLIENT = 'default';

/** How the product API reads where the library's REST APIs differ. */
const WORDING = {
  serves: 'product catalogue',
  apiName: 'product',
  readmeSection: 'ProductApi',
  exampleClients: ['mobile', 'partner'],
  apiKeyChoice: 'chosen by the user (the default, kept for compatibility)',
  // The default client keeps the ids of the single key of earlier versions, so an
  // upgrade neither replaces the secret nor changes the key its callers hold.
  keyIdSuffix: (client: string) => client === DEFAULT_API_KEY_CLIENT ? '' : `-${client}`,
};

/**
 * `/v1.0/products` on a REST API: every method uses the construct's authorization, and
 * needs an API key when keys are configured (one per client, each value in a secret of its
 * own, all on one usage plan); bodies are validated at the gateway; access logs are JSON.
 */
export class ProductRestApi extends KeyedRestApi {
  constructor(scope: Construct, id: string, props: ProductRestApiProps) {
    super(scope, id, { ...props, ...WORDING }, (api, validators) => {
      const productModel = api.addModel('ProductModel', { contentType: 'application/json', schema: PRODUCT_BODY_SCHEMA });
      const read = new apigw.LambdaIntegration(props.readFunction);
      const accept = new apigw.LambdaIntegration(props.acceptFunction);
      const withBody = { requestValidator: validators.body, requestModels: { 'application/json': productModel } };
      const withId = { requestValidator: validators.params, requestParameters: { 'method.request.path.productId': true } };

      const products = api.root.addResource('v1.0').addResource('products');
      products.addMethod('GET', read);
      products.addMethod('POST', accept, withBody);
      const product = products.addResource('{productId}');
      product.addMethod('GET', read, withId);
      product.addMethod('PUT', accept, { ...withBody, requestParameters: withId.requestParameters });
      product.addMethod('DELETE', accept, withId);
    });
  }
}
