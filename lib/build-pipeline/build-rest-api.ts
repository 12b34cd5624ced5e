import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { RUNTIME_HANDLER_RULES } from './contract';
import type { ApiAuthorization } from '../core/api-authorization';
import { acknowledgeFindings } from '../core/nag';
import { propError } from '../core/prop-checks';
import { createServiceRestApi, problemTemplate } from '../core/service-rest-api';

export interface BuildRestApiProps {
  readonly createFunction: lambda.IFunction;
  readonly readFunction: lambda.IFunction;
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

const CLIENT_NAME = /^[A-Za-z0-9_-]{1,64}$/;

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

/**
 * `/v1.0/builds` on a REST API: POST (create, body validated at the gateway), GET (a
 * function's builds), GET `{jobId}` and GET `{jobId}/deliveries`. Every method uses the
 * construct's authorization and needs an API key when keys are configured (one per
 * client, each value in a secret, all on one usage plan).
 */
export class BuildRestApi extends Construct {
  public readonly api: apigw.RestApi;
  public readonly apiKeys: Record<string, apigw.IApiKey> = {};
  public readonly apiKeySecrets: Record<string, secretsmanager.Secret> = {};
  public readonly usagePlan: apigw.UsagePlan;

  constructor(scope: Construct, id: string, props: BuildRestApiProps) {
    super(scope, id);
    checkClientNames(scope, props.authorization, props.apiKeys);
    const auth = props.authorization.bind(this);
    this.api = createServiceRestApi(this, {
      description: `${this.node.path}: build jobs`,
      throttle: props.throttle,
      logRetention: props.logRetention,
      logEncryptionKey: props.logEncryptionKey,
      defaultMethodOptions: { ...auth, apiKeyRequired: props.apiKeys.length > 0 },
    });

    const bodyValidator = this.api.addRequestValidator('BodyValidator', { validateRequestBody: true, validateRequestParameters: true });
    const paramsValidator = this.api.addRequestValidator('ParamsValidator', { validateRequestParameters: true });
    const createModel = this.api.addModel('CreateBuildModel', { contentType: 'application/json', schema: CREATE_BUILD_BODY_SCHEMA });
    const create = new apigw.LambdaIntegration(props.createFunction);
    const read = new apigw.LambdaIntegration(props.readFunction);
    const withId = { requestValidator: paramsValidator, requestParameters: { 'method.request.path.jobId': true } };

    const builds = this.api.root.addResource('v1.0').addResource('builds');
    builds.addMethod('POST', create, {
      requestValidator: bodyValidator,
      requestModels: { 'application/json': createModel },
      requestParameters: { 'method.request.header.Idempotency-Key': false },
    });
    builds.addMethod('GET', read, { requestValidator: paramsValidator, requestParameters: { 'method.request.querystring.functionName': true } });
    const build = builds.addResource('{jobId}');
    build.addMethod('GET', read, withId);
    build.addResource('deliveries').addMethod('GET', read, withId);

    this.api.addGatewayResponse('BadBody', { type: apigw.ResponseType.BAD_REQUEST_BODY, templates: problemTemplate('VALIDATION_FAILED') });
    this.api.addGatewayResponse('BadParameters', { type: apigw.ResponseType.BAD_REQUEST_PARAMETERS, templates: problemTemplate('VALIDATION_FAILED') });

    this.usagePlan = this.api.addUsagePlan('UsagePlan', {
      throttle: props.throttle,
      quota: props.quota,
      apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
    });
    for (const client of props.apiKeys) {
      const secret = new secretsmanager.Secret(this, `ApiKeySecret-${client}`, {
        description: `${this.node.path}: API key value of the build API for client '${client}'`,
        encryptionKey: props.encryptionKey,
        generateSecretString: { passwordLength: 40, excludePunctuation: true },
      });
      const apiKey = this.api.addApiKey(`ApiKey-${client}`, {
        value: secret.secretValue.unsafeUnwrap(),
        description: `client '${client}' of ${this.node.path}`,
      });
      this.usagePlan.addApiKey(apiKey);
      this.apiKeys[client] = apiKey;
      this.apiKeySecrets[client] = secret;
      acknowledgeFindings(secret, Object.fromEntries(['AwsSolutions-SMG4', 'NIST.800.53.R5-SecretsManagerRotationEnabled'].map((rule) => [rule,
        'An API Gateway key cannot rotate in place: rotate by putting a new value in the secret and redeploying, client by ' +
        'client (README, BuildPipeline).'])));
    }

    const { identitySource } = props.authorization;
    const findings: Record<string, string> = {
      'AwsSolutions-APIG3': 'No WAF web ACL is created: a web ACL is billed per ACL and rule, and its rules (rate limits, IP sets, ' +
        'managed rule groups) are the user\'s policy. Associate yours with `api.deploymentStage` (README).',
    };
    if (identitySource === 'apiKey') {
      findings['AwsSolutions-APIG4'] = 'Authorization is `ApiAuthorization.apiKey()`, the default the user kept: an API key identifies a ' +
        'usage-plan client, it does not authenticate a caller. README says so and offers IAM, Cognito and custom authorizers (`authorization`).';
    }
    if (identitySource !== 'cognito') {
      findings['AwsSolutions-COG4'] = `Callers are identified by ${identitySource === 'apiKey' ? 'API keys' :
        identitySource === 'iam' ? 'IAM (SigV4)' : 'the user\'s own authorizer'}, as chosen in \`authorization\`; ` +
        'a Cognito user pool is one of the options (`ApiAuthorization.cognito`).';
    }
    acknowledgeFindings(this.api, findings);
  }
}

function checkClientNames(scope: Construct, authorization: ApiAuthorization, clients: readonly string[]): void {
  if (authorization.identitySource === 'apiKey' && clients.length === 0) {
    throw propError(scope, 'apiKeys', 'API-key authorization needs at least one client key; pass names, e.g. [\'ci\', \'console\'], or choose another `authorization`');
  }
  const seen = new Set<string>();
  for (const client of clients) {
    if (!CLIENT_NAME.test(client)) throw propError(scope, 'apiKeys', `client name '${client}' must be 1-64 characters of A-Z, a-z, 0-9, '_' or '-'`);
    if (seen.has(client)) throw propError(scope, 'apiKeys', `client name '${client}' appears twice`);
    seen.add(client);
  }
}
