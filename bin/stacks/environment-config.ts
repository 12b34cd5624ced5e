import { RemovalPolicy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';

/** One environment's settings, as written under `environments.<name>` in cdk.json context. */
export interface EnvironmentConfig {
  /** E-mail address subscribed to the alarm topic. */
  readonly alarmEmail?: string;
  /** 'retain' or 'destroy' for data resources. */
  readonly removalPolicy?: 'retain' | 'destroy';
  /** Usage plan limits of the product API. */
  readonly throttle?: { readonly rateLimit: number; readonly burstLimit: number };
  /** Log retention in days (a CloudWatch Logs allowed value). */
  readonly logRetentionDays?: number;
  /**
   * The function platform's prefix: AWS function names `{functionPrefix}-{name}`, one per
   * environment so environments sharing an account never touch each other's functions.
   */
  readonly functionPrefix: string;
  /** Deploy to this account/region; omitted, the stack is environment-agnostic. */
  readonly account?: string;
  readonly region?: string;
}

/** Parses an environment's context, failing with a message that names the fix. */
export function parseEnvironmentConfig(name: string, raw: unknown): EnvironmentConfig {
  if (raw === undefined) {
    throw new Error(`No context for environment '${name}': add "environments": { "${name}": { ... } } to cdk.json`);
  }
  const config = raw as EnvironmentConfig;
  if (config.removalPolicy && !['retain', 'destroy'].includes(config.removalPolicy)) {
    throw new Error(`environments.${name}.removalPolicy must be 'retain' or 'destroy', got '${config.removalPolicy}'`);
  }
  if (config.logRetentionDays !== undefined && !Object.values(logs.RetentionDays).includes(config.logRetentionDays)) {
    throw new Error(`environments.${name}.logRetentionDays ${config.logRetentionDays} is not a CloudWatch Logs retention (e.g. 7, 30, 90, 365)`);
  }
  if (typeof config.functionPrefix !== 'string' || config.functionPrefix.length === 0) {
    throw new Error(`environments.${name}.functionPrefix is missing: the function platform's name prefix, e.g. "ces-${name}"`);
  }
  return config;
}

export function removalPolicyOf(config: EnvironmentConfig): RemovalPolicy {
  return config.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
}
