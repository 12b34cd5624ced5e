import { LambdaError } from './errors';
import type { EventInvokeConfig, FunctionState, FunctionStore } from './function-store';
import { parseFunctionName, validateRange } from './names';

/** Put/Update/Get/DeleteFunctionEventInvokeConfig: retries, maximum event age and destinations per qualifier. */
export class EventInvokeConfigs {
  constructor(private readonly store: FunctionStore) {}

  /** Put replaces the settings; update (`merge`) changes only the members given. */
  put(rawName: string, qualifier: string | undefined, input: any, merge: boolean): EventInvokeConfig {
    const fn = this.store.find(rawName);
    const key = qualifier ?? parseFunctionName(rawName).qualifier ?? '$LATEST';
    this.store.version(fn, key);
    const previous = merge ? fn.eventInvokeConfigs.get(key) : undefined;
    if (merge && !previous) throw this.missing(fn, key);
    const config: EventInvokeConfig = {
      LastModified: Date.now() / 1000,
      FunctionArn: this.store.arn(fn.name, key),
      MaximumRetryAttempts: input.MaximumRetryAttempts === undefined
        ? previous?.MaximumRetryAttempts : validateRange('maximumRetryAttempts', input.MaximumRetryAttempts, 0, 2),
      MaximumEventAgeInSeconds: input.MaximumEventAgeInSeconds === undefined
        ? previous?.MaximumEventAgeInSeconds : validateRange('maximumEventAgeInSeconds', input.MaximumEventAgeInSeconds, 60, 21600),
      DestinationConfig: input.DestinationConfig ?? previous?.DestinationConfig,
    };
    for (const target of [config.DestinationConfig?.OnSuccess?.Destination, config.DestinationConfig?.OnFailure?.Destination]) {
      if (target !== undefined && !/^arn:aws[a-zA-Z-]*:(sqs|sns|lambda|events|s3):/.test(target)) {
        throw new LambdaError('InvalidParameterValueException', `The destination ARN ${target} is invalid.`);
      }
    }
    fn.eventInvokeConfigs.set(key, config);
    return config;
  }

  get(rawName: string, qualifier?: string): EventInvokeConfig {
    const fn = this.store.find(rawName);
    const key = qualifier ?? parseFunctionName(rawName).qualifier ?? '$LATEST';
    const config = fn.eventInvokeConfigs.get(key);
    if (!config) throw this.missing(fn, key);
    return config;
  }

  delete(rawName: string, qualifier?: string): void {
    const fn = this.store.find(rawName);
    const key = qualifier ?? parseFunctionName(rawName).qualifier ?? '$LATEST';
    if (!fn.eventInvokeConfigs.delete(key)) throw this.missing(fn, key);
  }

  private missing(fn: FunctionState, key: string): LambdaError {
    return new LambdaError('ResourceNotFoundException', `The function ${this.store.arn(fn.name, key)} doesn't have an EventInvokeConfig`);
  }
}
