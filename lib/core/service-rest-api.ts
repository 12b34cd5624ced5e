import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { createLogGroup } from './encryption';
import { acknowledgeFindings, inBothRegulatoryPacks } from './nag';

export interface ServiceRestApiProps {
  readonly description: string;
  readonly throttle: apigw.ThrottleSettings;
  readonly logRetention: logs.RetentionDays;
  readonly defaultMethodOptions?: apigw.MethodOptions;
  /** Customer-managed key for the access logs. @default - CloudWatch Logs' own encryption */
  readonly logEncryptionKey?: kms.IKey;
}

/**
 * The library's REST API: regional, stage `v1` with X-Ray, metrics, error logging, JSON
 * access logs (retained), stage throttling, and gateway-generated 4xx/5xx answers in the
 * library's problem shape with the request id as correlation id.
 */
export function createServiceRestApi(scope: Construct, props: ServiceRestApiProps): apigw.RestApi {
  const accessLogs = createLogGroup(scope, 'AccessLogs', { retention: props.logRetention, encryptionKey: props.logEncryptionKey });
  const api = new apigw.RestApi(scope, 'Api', {
    description: props.description,
    // API Gateway's CloudWatch role is one setting per account and region
    // (AWS::ApiGateway::Account): a library must not own it. Execution logging needs it
    // set once per account (README says how); access logs do not.
    cloudWatchRole: false,
    deployOptions: {
      stageName: 'v1',
      tracingEnabled: true,
      metricsEnabled: true,
      loggingLevel: apigw.MethodLoggingLevel.ERROR,
      accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
      accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
      throttlingRateLimit: props.throttle.rateLimit,
      throttlingBurstLimit: props.throttle.burstLimit,
    },
    defaultMethodOptions: props.defaultMethodOptions,
    endpointTypes: [apigw.EndpointType.REGIONAL],
  });
  api.addGatewayResponse('Default4xx', { type: apigw.ResponseType.DEFAULT_4XX, templates: problemTemplate('REQUEST_REJECTED') });
  api.addGatewayResponse('Default5xx', { type: apigw.ResponseType.DEFAULT_5XX, templates: problemTemplate('INTERNAL_ERROR') });
  acknowledgeFindings(api, {
    ...inBothRegulatoryPacks('APIGWAssociatedWithWAF', 'No web ACL is created: a WAF web ACL is billed per ACL and rule, and its rules ' +
      '(rate limits, IP sets, managed rule groups) are the user\'s policy. Associate yours with the stage (README).'),
    ...inBothRegulatoryPacks('APIGWCacheEnabledAndEncrypted', 'Responses are not cached: reads must see the latest accepted write, and a ' +
      'webhook answer must never come from a cache.'),
    ...inBothRegulatoryPacks('APIGWSSLEnabled', 'The integrations are Lambda proxy integrations, reached by API Gateway over AWS\'s ' +
      'signed internal API; a client certificate only authenticates API Gateway to an HTTP backend, of which there is none.'),
  });
  return api;
}

/** A gateway response body in the library's problem shape. */
export function problemTemplate(code: string): Record<string, string> {
  return {
    'application/json': `{"error":{"code":"${code}","message":$context.error.messageString,"correlationId":"$context.requestId"}}`,
  };
}
