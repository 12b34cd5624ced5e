/**
 * `POST /v1.0/functions/{name}/invoke` (API Gateway REST proxy): synchronous by default, the
 * function's result as the answer; `?mode=async` answers 202 `{ invocationId }` with a `Location`
 * to read it. An async call may name a `callbackUrl` (query `callbackUrl=` or header `X-Callback-Url`,
 * as OpenFaaS), checked here for form only (https, at most 2048 characters, no credentials, no
 * private IP literal); the SSRF guard proper runs on the connected address when the result is POSTed.
 *
 * Metrics (Powertools, EMF lines on stdout, flushed per request: no PutMetricData on the invoke path),
 * dimension `FunctionName` = the registered name, set only for registered functions (an unknown name
 * is caller input and must not become a dimension).
 */
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { LambdaClient } from '@aws-sdk/client-lambda';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { createFunctionCache, invokeFunction, takeCacheStats, type InvokeResult, type InvokeServices } from './invoke-logic';
import { RateLimiter } from './rate-limiter';
import {
  INVOCATION_LOG_MESSAGE, InvocationStatus, LAMBDA_RUNTIME_METRICS_NAMESPACE, LambdaRuntimeHandlers, LambdaRuntimeMetrics as M,
  type FunctionLimits, type RuntimeSettings,
} from '../../lib/lambda-runtime-service/contract';
import { documentClient } from '../shared/clients/dynamodb';
import { jsonObjectSetting, readConfig } from '../shared/config';
import { jsonResponse } from '../shared/errors';
import { getHeader } from '../shared/headers';
import { httpHandler } from '../shared/http-handler';
import { createLogger } from '../shared/logger';
import { parseWebhookUrl, WebhookBlockedError } from '../shared/outbound-webhook/ssrf-guard';

const contract = LambdaRuntimeHandlers.invoke;
const config = readConfig(contract.environment);
const logger = createLogger(contract.serviceName);
const metrics = new Metrics({ namespace: LAMBDA_RUNTIME_METRICS_NAMESPACE, serviceName: contract.serviceName });

const settings = jsonObjectSetting<RuntimeSettings>('RUNTIME_SETTINGS', config.RUNTIME_SETTINGS);
const limits = jsonObjectSetting<FunctionLimits>('FUNCTION_LIMITS', config.FUNCTION_LIMITS);

// One attempt: the SDK's retries would hide Lambda's throttle (the caller must see 429 + Retry-After)
// and could spend the API's 29 s on a function that is slow, not failing.
const lambda = new LambdaClient({ maxAttempts: 1 });

const services: InvokeServices = {
  lambda,
  functionPrefix: config.FUNCTION_NAME_PREFIX,
  cache: createFunctionCache(
    { db: documentClient, tableName: config.FUNCTION_REGISTRY_TABLE_NAME, now: () => new Date(), limits, settings }, settings),
  rateLimiter: new RateLimiter({ db: documentClient, tableName: config.FUNCTION_REGISTRY_TABLE_NAME, nowMs: Date.now }),
  audit: { db: documentClient, tableName: config.INVOCATION_AUDIT_TABLE_NAME, settings },
  onAuditFailure: (error, invocationId) => logger.error('Audit write failed after the invocation', { invocationId, error: error as Error }),
  onLambdaError: (error, invocationId) => logger.warn('Lambda refused or did not answer the Invoke', { invocationId, error: error as Error }),
};

const MAX_CALLBACK_URL_LENGTH = 2048;
let coldStart = true;

const badRequest = (message: string, correlationId: string) =>
  jsonResponse(400, { error: { code: 'VALIDATION_FAILED', message, correlationId } }, correlationId);

/** The callback URL's form, or a reason to refuse it. Whether it may be reached is decided at delivery. */
function checkCallbackUrl(raw: string): string | undefined {
  if (raw.length > MAX_CALLBACK_URL_LENGTH) return `callbackUrl: at most ${MAX_CALLBACK_URL_LENGTH} characters`;
  try {
    parseWebhookUrl(raw);
  } catch (error) {
    if (error instanceof WebhookBlockedError) return `callbackUrl: ${error.message.replace(/^Webhook /, '')}`;
    throw error;
  }
  return undefined;
}

/** `registered`: invokeFunction found the function (an audit id, or a payload refused after the lookup). */
const isRegistered = (result: InvokeResult | undefined) =>
  result !== undefined && (result.invocationId !== undefined || result.statusCode === 400 || result.statusCode === 413);

function emitMetrics(name: string | undefined, result: InvokeResult | undefined): void {
  if (name && isRegistered(result)) metrics.addDimension('FunctionName', name);
  if (coldStart) {
    metrics.addMetric(M.COLD_STARTS, MetricUnit.Count, 1);
    coldStart = false;
  }
  const stats = takeCacheStats(services);
  metrics.addMetric(M.CACHE_HITS, MetricUnit.Count, stats.hits);
  metrics.addMetric(M.CACHE_MISSES, MetricUnit.Count, stats.misses);
  if (result?.invocationId) {
    metrics.addMetric(M.INVOCATIONS, MetricUnit.Count, 1);
    if (result.functionError) metrics.addMetric(M.ERRORS, MetricUnit.Count, 1);
    if (result.statusCode === 429) metrics.addMetric(M.THROTTLES, MetricUnit.Count, 1);
    // Duration of calls that ran (sync): a throttled call's 0 would pull the percentiles down.
    if (result.durationMs !== undefined && result.status !== InvocationStatus.THROTTLED) {
      metrics.addMetric(M.DURATION, MetricUnit.Milliseconds, result.durationMs);
    }
  }
  metrics.publishStoredMetrics();
}

export const handler = httpHandler(logger, async ({ event, correlationId }): Promise<APIGatewayProxyResult> => {
  const name = event.pathParameters?.name;
  let result: InvokeResult | undefined;
  let validated = false;
  try {
    const query = event.queryStringParameters ?? {};
    const mode = query.mode ?? 'sync';
    if (mode !== 'sync' && mode !== 'async') return badRequest("mode: 'sync' (default) or 'async'", correlationId);
    const callbackUrl = query.callbackUrl ?? getHeader(event.headers, 'x-callback-url');
    if (callbackUrl !== undefined) {
      if (mode !== 'async') return badRequest('callbackUrl: only an async invocation (mode=async) calls back', correlationId);
      const refused = checkCallbackUrl(callbackUrl);
      if (refused) return badRequest(refused, correlationId);
    }
    const payload = event.body === null || event.body === undefined
      ? undefined
      : event.isBase64Encoded ? Buffer.from(event.body, 'base64') : event.body;
    validated = true;
    result = await invokeFunction(name ?? '', payload, { mode, correlationId, callbackUrl }, services);
    if (result.invocationId) {
      logger.info(INVOCATION_LOG_MESSAGE, {
        functionName: name,
        status: result.status,
        invocationId: result.invocationId,
        mode,
        statusCode: result.statusCode,
        durationMs: result.durationMs,
      });
    }
    const { invocationId: _id, status: _status, durationMs: _duration, functionError: _error, ...response } = result;
    return response;
  } finally {
    emitMetrics(name, validated ? result : undefined);
  }
});
