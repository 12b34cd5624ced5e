import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { ApiAuthorization } from './api-authorization';
import { acknowledgeFindings } from './nag';
import { propError } from './prop-checks';
import { createServiceRestApi, problemTemplate } from './service-rest-api';

/** What a service's construct passes on to its REST API with keyed clients. */
export interface KeyedRestApiSettings {
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

/** Where one service's API reads differently from another's; ids and settings do not. */
export interface KeyedRestApiWording {
  /** What the API serves, after the construct path in its description, e.g. 'build jobs'. */
  readonly serves: string;
  /** The API's name in each secret's description: "API key value of the <apiName> API". */
  readonly apiName: string;
  /** The README section the key-rotation acknowledgement points to, e.g. 'BuildPipeline'. */
  readonly readmeSection: string;
  /** Client names the error without keys suggests. */
  readonly exampleClients: readonly string[];
  /** How API-key authorization came to be used, in the APIG4 acknowledgement. */
  readonly apiKeyChoice: string;
  /** A client's suffix on its key and secret ids. @default `-${client}` */
  readonly keyIdSuffix?: (client: string) => string;
}

/** The request validators a service's methods choose from. */
export interface KeyedRestApiValidators {
  /** Checks the body against the method's model, and the required parameters. */
  readonly body: apigw.RequestValidator;
  /** Checks the required parameters only. */
  readonly params: apigw.RequestValidator;
}

const CLIENT_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The library's REST API (createServiceRestApi) under this construct, every method using the
 * chosen authorization and needing an API key when keys are configured: one key per client,
 * each value in a secret, all on one usage plan. A service extends it and passes
 * `addMethods` for its resources, methods and models: it runs between the validators and the
 * keys so the construct tree keeps the order of the services' earlier, separate code.
 */
export class KeyedRestApi extends Construct {
  public readonly api: apigw.RestApi;
  /** Each client's API key, by client name. */
  public readonly apiKeys: Record<string, apigw.IApiKey> = {};
  /** Each client's API key value, by client name. */
  public readonly apiKeySecrets: Record<string, secretsmanager.Secret> = {};
  public readonly usagePlan: apigw.UsagePlan;

  constructor(scope: Construct, id: string, props: KeyedRestApiSettings & KeyedRestApiWording,
    addMethods: (api: apigw.RestApi, validators: KeyedRestApiValidators) => void) {
    super(scope, id);
    // Prop errors name the service's construct, the one the user made.
    checkClientNames(scope, props);
    const auth = props.authorization.bind(this);
    const api = this.api = createServiceRestApi(this, {
      description: `${this.node.path}: ${props.serves}`,
      throttle: props.throttle,
      logRetention: props.logRetention,
      logEncryptionKey: props.logEncryptionKey,
      defaultMethodOptions: { ...auth, apiKeyRequired: props.apiKeys.length > 0 },
    });
    addMethods(api, {
      body: api.addRequestValidator('BodyValidator', { validateRequestBody: true, validateRequestParameters: true }),
      params: api.addRequestValidator('ParamsValidator', { validateRequestParameters: true }),
    });
    // Gateway-generated 400s keep the library's problem shape, with the request id as correlation id.
    api.addGatewayResponse('BadBody', { type: apigw.ResponseType.BAD_REQUEST_BODY, templates: problemTemplate('VALIDATION_FAILED') });
    api.addGatewayResponse('BadParameters', { type: apigw.ResponseType.BAD_REQUEST_PARAMETERS, templates: problemTemplate('VALIDATION_FAILED') });

    this.usagePlan = api.addUsagePlan('UsagePlan', { throttle: props.throttle, quota: props.quota, apiStages: [{ api, stage: api.deploymentStage }] });
    for (const client of props.apiKeys) {
      const suffix = props.keyIdSuffix ? props.keyIdSuffix(client) : `-${client}`;
      const secret = new secretsmanager.Secret(this, `ApiKeySecret${suffix}`, {
        description: `${this.node.path}: API key value of the ${props.apiName} API for client '${client}'`,
        encryptionKey: props.encryptionKey,
        generateSecretString: { passwordLength: 40, excludePunctuation: true },
      });
      const apiKey = api.addApiKey(`ApiKey${suffix}`, { value: secret.secretValue.unsafeUnwrap(), description: `client '${client}' of ${this.node.path}` });
      this.usagePlan.addApiKey(apiKey);
      this.apiKeys[client] = apiKey;
      this.apiKeySecrets[client] = secret;
      acknowledgeFindings(secret, Object.fromEntries(['AwsSolutions-SMG4', 'NIST.800.53.R5-SecretsManagerRotationEnabled'].map((rule) => [rule,
        'An API Gateway key cannot rotate in place: rotate by putting a new value in the secret and redeploying, client by ' +
        `client (README, ${props.readmeSection}).`])));
    }
    acknowledgeFindings(api, authorizationFindings(props));
  }
}

/** The findings that follow from the chosen authorization, each with the reason it stands. */
function authorizationFindings(props: KeyedRestApiSettings & KeyedRestApiWording): Record<string, string> {
  const { identitySource } = props.authorization;
  const findings: Record<string, string> = {
    'AwsSolutions-APIG3': 'No WAF web ACL is created: a web ACL is billed per ACL and rule, and its rules (rate limits, IP sets, ' +
      'managed rule groups) are the user\'s policy. Associate yours with `api.deploymentStage` (README).',
  };
  if (identitySource === 'apiKey') {
    findings['AwsSolutions-APIG4'] = `Authorization is \`ApiAuthorization.apiKey()\`, ${props.apiKeyChoice}: an API key identifies a ` +
      'usage-plan client, it does not authenticate a caller. README says so and offers IAM, Cognito and custom authorizers (`authorization`).';
  }
  if (identitySource !== 'cognito') {
    findings['AwsSolutions-COG4'] = `Callers are identified by ${identitySource === 'apiKey' ? 'API keys' :
      identitySource === 'iam' ? 'IAM (SigV4)' : 'the user\'s own authorizer'}, as chosen in \`authorization\`; ` +
      'a Cognito user pool is one of the options (`ApiAuthorization.cognito`).';
  }
  return findings;
}

function checkClientNames(scope: Construct, props: KeyedRestApiSettings & KeyedRestApiWording): void {
  if (props.authorization.identitySource === 'apiKey' && props.apiKeys.length === 0) {
    const examples = props.exampleClients.map((name) => `'${name}'`).join(', ');
    throw propError(scope, 'apiKeys', `API-key authorization needs at least one client key; pass names, e.g. [${examples}], or choose another \`authorization\``);
  }
  const seen = new Set<string>();
  for (const client of props.apiKeys) {
    if (!CLIENT_NAME.test(client)) throw propError(scope, 'apiKeys', `client name '${client}' must be 1-64 characters of A-Z, a-z, 0-9, '_' or '-'`);
    if (seen.has(client)) throw propError(scope, 'apiKeys', `client name '${client}' appears twice`);
    seen.add(client);
  }
}
