export { LambdaRuntimeService } from './lambda-runtime-service';
export * from './lambda-runtime-service-props';
export {
  LambdaRuntimeErrors, InvocationStatus, LIVE_ALIAS, PLATFORM_TAG_KEY, SUPPORTED_RUNTIMES, LAMBDA_RUNTIME_METRICS_NAMESPACE, LambdaRuntimeMetrics,
  type DeploymentPolicy, type FunctionRecord, type FunctionSchedule, type RateLimit, type InvocationStatusValue, type SupportedRuntime,
} from './contract';
