import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { KeyedRestApi, type KeyedRestApiSettings } from '../core/keyed-rest-api';

export interface RuntimeRestApiProps extends KeyedRestApiSettings {
  readonly registryFunction: lambda.IFunction;
  readonly rollbackFunction: lambda.IFunction;
  readonly invokeFunction: lambda.IFunction;
  readonly invocationsFunction: lambda.IFunction;
}

/** How the platform API reads where the library's REST APIs differ. */
const WORDING = {
  serves: 'function registry, deploys and invocations',
  apiName: 'function platform',
  readmeSection: 'LambdaRuntimeService',
  exampleClients: ['ci', 'app'],
  apiKeyChoice: 'the default the user kept',
};

/**
 * The platform API under `/v1.0`: the registry (`functions`, `functions/{name}`), rollback,
 * invoke, a function's invocations and one invocation by id. The handlers validate every
 * body (the registry's rules are theirs); the gateway checks the path parameters are present.
 */
export class RuntimeRestApi extends KeyedRestApi {
  constructor(scope: Construct, id: string, props: RuntimeRestApiProps) {
    super(scope, id, { ...props, ...WORDING }, (api, validators) => {
      const registry = new apigw.LambdaIntegration(props.registryFunction);
      const invocations = new apigw.LambdaIntegration(props.invocationsFunction);
      const withName = { requestValidator: validators.params, requestParameters: { 'method.request.path.name': true } };

      const v1 = api.root.addResource('v1.0');
      const functions = v1.addResource('functions');
      functions.addMethod('POST', registry);
      functions.addMethod('GET', registry);
      const fn = functions.addResource('{name}');
      fn.addMethod('GET', registry, withName);
      fn.addMethod('PATCH', registry, withName);
      fn.addMethod('DELETE', registry, withName);
      fn.addResource('rollback').addMethod('POST', new apigw.LambdaIntegration(props.rollbackFunction), withName);
      fn.addResource('invoke').addMethod('POST', new apigw.LambdaIntegration(props.invokeFunction), withName);
      fn.addResource('invocations').addMethod('GET', invocations, withName);
      v1.addResource('invocations').addResource('{id}').addMethod('GET', invocations, {
        requestValidator: validators.params, requestParameters: { 'method.request.path.id': true },
      });
    });
  }
}
