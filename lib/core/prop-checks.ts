import { Duration } from 'aws-cdk-lib';

/** Fails synth with a message naming the fix when a duration prop is out of range. */
export function checkDuration(path: string, name: string, value: Duration, min: Duration, max: Duration): void {
  const s = value.toSeconds();
  if (s < min.toSeconds() || s > max.toSeconds()) {
    throw new Error(`${path}: ${name} must be between ${min.toHumanString()} and ${max.toHumanString()}, got ${value.toHumanString()}`);
  }
}

/** Fails synth with a message naming the fix when a count prop is out of range. */
export function checkInteger(path: string, name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${path}: ${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
}
