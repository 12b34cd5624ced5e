import { Duration, Token } from 'aws-cdk-lib';
import { ValidationError } from 'aws-cdk-lib/core/lib/errors';
import { IConstruct } from 'constructs';

/**
 * A prop the construct cannot work with: CDK's own ValidationError, so the CLI shows the
 * construct path with it. The message names the prop and what would be accepted.
 */
export function propError(scope: IConstruct, prop: string, message: string): ValidationError {
  return new ValidationError(`InvalidProp:${prop}` as any, `${prop}: ${message}`, scope);
}

/** Fails synth naming the prop and its range when a duration is out of range (tokens are left alone). */
export function checkDuration(scope: IConstruct, name: string, value: Duration | undefined, min: Duration, max: Duration): void {
  if (value === undefined || value.isUnresolved()) return;
  // Milliseconds: toSeconds() throws on a sub-second duration such as Duration.millis(800).
  const ms = value.toMilliseconds();
  if (ms < min.toMilliseconds() || ms > max.toMilliseconds()) {
    throw propError(scope, name, `must be between ${min.toHumanString()} and ${max.toHumanString()}, got ${value.toHumanString()}`);
  }
}

/** Fails synth naming the prop and its range when a count is not an integer in range (tokens are left alone). */
export function checkInteger(scope: IConstruct, name: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw propError(scope, name, `must be an integer from ${min} to ${max}, got ${value}`);
  }
}

/** Fails synth naming the prop when a number is outside [min, max] (tokens are left alone). */
export function checkNumber(scope: IConstruct, name: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!Number.isFinite(value) || value < min || value > max) {
    throw propError(scope, name, `must be a number from ${min} to ${max}, got ${value}`);
  }
}
