// The public API: the constructs, their props, their event constants and what a user
// passes in. The construct kit (lib/core) and the handler contracts stay internal.
export { AlarmTopic, type AlarmTopicProps } from './core/alarm-topic';
export { BUNDLE_FROM_SOURCE_CONTEXT } from './core/service-function';
export { ApiAuthorization, type ApiAuthorizerOptions, type ApiIdentitySource, type ApiMethodAuthorization } from './core/api-authorization';
export * from './product-api';
export * from './payment-outbox';
export * from './enrollment-saga';
export * from './build-pipeline';
export * from './lambda-runtime-service';
