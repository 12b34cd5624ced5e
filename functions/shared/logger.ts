import { Logger } from '@aws-lambda-powertools/logger';

/** One logger per function container, named by the handler's contract (the construct sets the same POWERTOOLS_SERVICE_NAME). */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName });
}

/** What logic modules log through: a message and structured fields, nothing Powertools-specific. */
export interface LogSink {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * The logger as a {@link LogSink}: Powertools' signatures (a message, then one extra input) do not
 * match the plain `(message, fields?)` shape the logic modules take, so each call is adapted.
 */
export function logSink(logger: Logger): LogSink {
  return {
    info: (message, fields) => logger.info(message, { ...fields }),
    warn: (message, fields) => logger.warn(message, { ...fields }),
    error: (message, fields) => logger.error(message, { ...fields }),
  };
}
