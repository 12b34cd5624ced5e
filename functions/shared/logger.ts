import { Logger } from '@aws-lambda-powertools/logger';

/** One logger per function container; service name from POWERTOOLS_SERVICE_NAME if set. */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? serviceName });
}
