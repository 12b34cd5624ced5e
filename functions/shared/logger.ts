import { Logger } from '@aws-lambda-powertools/logger';

/** One logger per function container, named by the handler's contract (the construct sets the same POWERTOOLS_SERVICE_NAME). */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName });
}
