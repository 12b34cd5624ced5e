import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { RUNTIME_HANDLER_RULES } from './contract';
import { KeyedRestApi, type KeyedRestApiSettings } from '../core/keyed-rest-api';

export interface BuildRestApiProps extends KeyedRestApiSettings {
  readonly createFunction: lambda.IFunction;
  readonly readFunction: lambda.IFunction;
}

/**
 * The create body as the gateway checks it before any Lambda runs (the handler checks it
 * again and is the authority: the handler pattern and the URL's rules are its own).
 */
export const CREATE_BUILD_BODY_SCHEMA: apigw.JsonSchema = {
  schema: apigw.JsonSchemaVersion.DRAFT4,
  title: 'CreateBuild',
  type: apigw.JsonSchemaType.OBJECT,
  additionalProperties: false,
  required: ['functionName', 'runtime'],
  properties: {
    functionName: { type: apigw.JsonSchemaType.STRING, minLength: 1, maxLength: 64 },
    runtime: { type: apigw.JsonSchemaType.STRING, enum: Object.keys(RUNTIME_HANDLER_RULES) },
    handler: { type: apigw.JsonSchemaType.STRING, minLength: 1, maxLength: 184 },
    webhookUrl: { type: apigw.JsonSchemaType.STRING, minLength: 1, maxLength: 2048 },
  },
};

/** How the build API reads where the library's REST APIs differ. */
const WORDING = {
  serves: 'build jobs',
  apiName: 'build',
  readmeSection: 'BuildPipeline',
  exampleClients: ['ci', 'console'],
  apiKeyChoice: 'the default the user kept',
};

/**
 * `/v1.0/builds` on a REST API: POST (create, body validated at the gateway), GET (a
 * function's builds), GET `{jobId}` and GET `{jobId}/deliveries`. Every method uses the
 * construct's authorization and needs an API key when keys are configured (one per
 * client, each value in a secret, all on one usage plan).
 */
export class BuildRestApi extends KeyedRestApi {
  constructor(scope: Construct, id: string, props: BuildRestApiProps) {
    super(scope, id, { ...props, ...WORDING }, (api, validators) => {
      const createModel = api.addModel('CreateBuildModel', { contentType: 'application/json', schema: CREATE_BUILD_BODY_SCHEMA });
      const create = new apigw.LambdaIntegration(props.createFunction);
      const read = new apigw.LambdaIntegration(props.readFunction);
      const withId = { requestValidator: validators.params, requestParameters: { 'method.request.path.jobId': true } };

      const builds = api.root.addResource('v1.0').addResource('builds');
      builds.addMethod('POST', create, {
        requestValidator: validators.body,
        requestModels: { 'application/json': createModel },
        requestParameters: { 'method.request.header.Idempotency-Key': false },
      });
      builds.addMethod('GET', read, { requestValidator: validators.params, requestParameters: { 'method.request.querystring.functionName': true } });
      const build = builds.addResource('{jobId}');
      build.addMethod('GET', read, withId);
      build.addResource('deliveries').addMethod('GET', read, withId);
    });
  }
}
