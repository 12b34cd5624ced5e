import { randomUUID } from 'node:crypto';
import { LambdaError, notFound, revisionMismatch } from './errors';
import type { AliasConfiguration, FunctionState, FunctionStore } from './function-store';
import { isVersionNumber } from './names';

/**
 * Aliases: a name that points at a version, optionally with a weight of traffic on one more
 * version (the canary's RoutingConfig). The invoker applies the weights; this keeps them valid.
 */
export class Aliases {
  constructor(private readonly store: FunctionStore) {}

  create(rawName: string, input: any): AliasConfiguration {
    const fn = this.store.find(rawName);
    const name = String(input.Name ?? '');
    if (!/^(?!^[0-9]+$)[a-zA-Z0-9-_]{1,128}$/.test(name)) {
      throw new LambdaError('ValidationException', `1 validation error detected: Value '${name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)`);
    }
    if (fn.aliases.has(name)) throw new LambdaError('ResourceConflictException', `Alias already exists: ${this.store.arn(fn.name, name)}`);
    const version = this.checkTarget(fn, String(input.FunctionVersion ?? ''), input.RoutingConfig);
    const alias: AliasConfiguration = {
      AliasArn: this.store.arn(fn.name, name),
      Name: name,
      FunctionVersion: version,
      Description: String(input.Description ?? ''),
      ...routing(input.RoutingConfig),
      RevisionId: randomUUID(),
    };
    fn.aliases.set(name, alias);
    return alias;
  }

  update(rawName: string, aliasName: string, input: any): AliasConfiguration {
    const fn = this.store.find(rawName);
    const alias = this.get(rawName, aliasName);
    if (input.RevisionId && input.RevisionId !== alias.RevisionId) throw revisionMismatch('GetAlias');
    const routingConfig = input.RoutingConfig ?? alias.RoutingConfig;
    const version = this.checkTarget(fn, String(input.FunctionVersion ?? alias.FunctionVersion), routingConfig);
    const updated: AliasConfiguration = {
      AliasArn: alias.AliasArn,
      Name: alias.Name,
      FunctionVersion: version,
      Description: input.Description === undefined ? alias.Description : String(input.Description),
      ...routing(routingConfig),
      RevisionId: randomUUID(),
    };
    fn.aliases.set(alias.Name, updated);
    return updated;
  }

  get(rawName: string, aliasName: string): AliasConfiguration {
    const fn = this.store.find(rawName);
    const alias = fn.aliases.get(aliasName);
    if (!alias) throw new LambdaError('ResourceNotFoundException', `Alias not found: ${this.store.arn(fn.name, aliasName)}`);
    return alias;
  }

  delete(rawName: string, aliasName: string): void {
    this.store.find(rawName).aliases.delete(this.get(rawName, aliasName).Name);
  }

  list(rawName: string) {
    return { Aliases: [...this.store.find(rawName).aliases.values()] };
  }

  /** An alias points at an existing version; weighted routing needs a published primary and one other published version. */
  private checkTarget(fn: FunctionState, version: string, routingConfig: any): string {
    if (version !== '$LATEST' && !fn.versions.has(version)) throw notFound(this.store.arn(fn.name, version));
    const weights: Record<string, number> = routingConfig?.AdditionalVersionWeights ?? {};
    const entries = Object.entries(weights);
    if (entries.length === 0) return version;
    if (entries.length > 1) throw new LambdaError('InvalidParameterValueException', 'Number of additional version weights cannot be greater than 1');
    if (version === '$LATEST') throw new LambdaError('InvalidParameterValueException', '$LATEST is not supported for an alias pointing to more than 1 version');
    const [extra, weight] = entries[0];
    if (!isVersionNumber(extra) || !fn.versions.has(extra)) throw notFound(this.store.arn(fn.name, extra));
    if (extra === version) throw new LambdaError('InvalidParameterValueException', `Invalid function version ${extra}. Function version ${extra} is already included in routing configuration.`);
    if (typeof weight !== 'number' || weight < 0 || weight > 1) {
      throw new LambdaError('ValidationException', `1 validation error detected: Value '${weight}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0]`);
    }
    return version;
  }
}

function routing(routingConfig: any): Pick<AliasConfiguration, 'RoutingConfig'> {
  const weights = routingConfig?.AdditionalVersionWeights;
  return weights && Object.keys(weights).length > 0 ? { RoutingConfig: { AdditionalVersionWeights: { ...weights } } } : {};
}
