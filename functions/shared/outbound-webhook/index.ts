export * from './standard-webhooks-signer';
export * from './ssrf-guard';
export * from './backoff';
export * from './deliver';
