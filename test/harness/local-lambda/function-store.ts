import { randomUUID } from 'node:crypto';
import { CodeSource, StoredCode, storeCode } from './code';
import { LambdaError, notFound, revisionMismatch } from './errors';
import {
  functionArn, parseFunctionName, validateEnvironment, validateRange, validateRole, validateRuntime,
} from './names';

/** FunctionConfiguration as Lambda returns it (the members the platform reads). */
export interface FunctionConfiguration {
  readonly FunctionName: string;
  readonly FunctionArn: string;
  readonly Runtime: string;
  readonly Role: string;
  readonly Handler: string;
  readonly CodeSize: number;
  readonly CodeSha256: string;
  readonly Description: string;
  readonly Timeout: number;
  readonly MemorySize: number;
  readonly LastModified: string;
  readonly Version: string;
  readonly Environment?: { readonly Variables: Record<string, string> };
  readonly RevisionId: string;
  readonly State: 'Active';
  readonly LastUpdateStatus: 'Successful';
  readonly PackageType: 'Zip';
  readonly Architectures: string[];
}

/** One runnable version ($LATEST or published): configuration, code, and the id of its warm pool. */
export interface VersionRecord {
  readonly config: FunctionConfiguration;
  readonly code: StoredCode;
  /** Changes whenever $LATEST changes, so warm children of old code are never reused. */
  readonly generation: string;
}

export interface AliasConfiguration {
  AliasArn: string;
  Name: string;
  FunctionVersion: string;
  Description: string;
  RoutingConfig?: { AdditionalVersionWeights: Record<string, number> };
  RevisionId: string;
}

/** PutFunctionEventInvokeConfig's settings for one qualifier: retries, event age, destinations. */
export interface EventInvokeConfig {
  LastModified: number;
  FunctionArn: string;
  MaximumRetryAttempts?: number;
  MaximumEventAgeInSeconds?: number;
  DestinationConfig?: { OnSuccess?: { Destination?: string }; OnFailure?: { Destination?: string } };
}

export interface FunctionState {
  readonly name: string;
  latest: VersionRecord;
  readonly versions: Map<string, VersionRecord>;
  readonly aliases: Map<string, AliasConfiguration>;
  tags: Record<string, string>;
  reservedConcurrency?: number;
  /** By qualifier ($LATEST for the unqualified function, a version or an alias). */
  readonly eventInvokeConfigs: Map<string, EventInvokeConfig>;
  nextVersion: number;
  /** Set while new code is fetched and unzipped: Lambda answers 409 to other changes meanwhile. */
  updating: boolean;
  /** Invocations running now, across all versions (reserved concurrency counts them all). */
  inFlight: number;
}

export interface StoreOptions {
  readonly region: string;
  readonly s3Endpoint: string;
  readonly codeRoot: string;
  /** Lambda's account concurrency; reserved concurrency must leave 100 of it unreserved. */
  readonly accountConcurrency: number;
  /** Called when a version can no longer be invoked (replaced $LATEST, deleted), to stop its children. */
  readonly retire: (generation: string) => void;
}

const CONFIG_FIELDS = ['Runtime', 'Role', 'Handler', 'Description', 'Timeout', 'MemorySize', 'Environment', 'Architectures'] as const;
const conflict = (arn: string) => new LambdaError('ResourceConflictException', `The operation cannot be performed at this time. An update is in progress for resource: ${arn}`);

/** Lambda's control plane over functions, versions and reserved concurrency, in memory (aliases.ts, event-invoke-config.ts do the rest). */
export class FunctionStore {
  readonly functions = new Map<string, FunctionState>();

  constructor(private readonly options: StoreOptions) {}

  arn(name: string, qualifier?: string): string {
    return functionArn(this.options.region, name, qualifier);
  }

  /** The function named by a path parameter (name or ARN); 404 when it does not exist. */
  find(rawName: string): FunctionState {
    const { name } = parseFunctionName(rawName);
    const fn = this.functions.get(name);
    if (!fn) throw notFound(this.arn(name));
    if (!fn.latest) throw new LambdaError('ResourceConflictException', 'The operation cannot be performed at this time. The function is currently in the following state: Pending');
    return fn;
  }

  /** The version a qualifier names: $LATEST, a number, or an alias (its primary version; routing is the invoker's). */
  version(fn: FunctionState, qualifier = '$LATEST'): VersionRecord {
    if (qualifier === '$LATEST') return fn.latest;
    const alias = fn.aliases.get(qualifier);
    const record = fn.versions.get(alias ? alias.FunctionVersion : qualifier) ?? (alias?.FunctionVersion === '$LATEST' ? fn.latest : undefined);
    if (!record) throw notFound(this.arn(fn.name, qualifier));
    return record;
  }

  async create(input: any): Promise<FunctionConfiguration> {
    const { name } = parseFunctionName(String(input.FunctionName ?? ''));
    if (input.PackageType && input.PackageType !== 'Zip') {
      throw new LambdaError('InvalidParameterValueException', `The local Lambda endpoint stores Zip packages only, not ${input.PackageType}`);
    }
    if (!input.Handler) throw new LambdaError('InvalidParameterValueException', 'Handler and Runtime must be specified for a Zip package');
    const base = {
      Runtime: validateRuntime(input.Runtime),
      Role: validateRole(input.Role),
      Handler: String(input.Handler),
      Description: String(input.Description ?? ''),
      Timeout: input.Timeout === undefined ? 3 : validateRange('timeout', input.Timeout, 1, 900),
      MemorySize: input.MemorySize === undefined ? 128 : validateRange('memorySize', input.MemorySize, 128, 10240),
      Environment: { Variables: validateEnvironment(input.Environment) },
      Architectures: input.Architectures ?? ['x86_64'],
    };
    if (this.functions.has(name)) throw new LambdaError('ResourceConflictException', `Function already exist: ${name}`);
    // Reserve the name while the code downloads, so a concurrent create of the same name gets 409.
    const placeholder = { name, updating: true } as FunctionState;
    this.functions.set(name, placeholder);
    let code: StoredCode;
    try {
      code = await storeCode(input.Code as CodeSource, this.options.s3Endpoint, this.options.codeRoot);
    } catch (error) {
      this.functions.delete(name);
      throw error;
    }
    const fn: FunctionState = {
      name,
      latest: this.record(name, '$LATEST', base, code),
      versions: new Map(),
      aliases: new Map(),
      eventInvokeConfigs: new Map(),
      tags: { ...input.Tags },
      nextVersion: 1,
      updating: false,
      inFlight: 0,
    };
    this.functions.set(name, fn);
    return input.Publish ? this.publish(fn, {}) : fn.latest.config;
  }

  getFunction(rawName: string, qualifier?: string) {
    const fn = this.find(rawName);
    const record = this.version(fn, qualifier ?? parseFunctionName(rawName).qualifier);
    return {
      Configuration: record.config,
      Code: { RepositoryType: 'S3', Location: record.code.location },
      Tags: fn.tags,
      ...(fn.reservedConcurrency === undefined ? {} : { Concurrency: { ReservedConcurrentExecutions: fn.reservedConcurrency } }),
    };
  }

  async updateCode(rawName: string, input: any): Promise<FunctionConfiguration> {
    const fn = this.startUpdate(rawName, input.RevisionId);
    try {
      const code = await storeCode(input as CodeSource, this.options.s3Endpoint, this.options.codeRoot);
      if (input.DryRun) return { ...fn.latest.config, CodeSha256: code.sha256, CodeSize: code.size };
      this.replaceLatest(fn, { Architectures: input.Architectures ?? fn.latest.config.Architectures }, code);
    } finally {
      fn.updating = false;
    }
    return input.Publish ? this.publish(fn, {}) : fn.latest.config;
  }

  updateConfiguration(rawName: string, input: any): FunctionConfiguration {
    const fn = this.startUpdate(rawName, input.RevisionId);
    try {
      const change: Record<string, unknown> = {};
      if (input.Runtime !== undefined) change.Runtime = validateRuntime(input.Runtime);
      if (input.Role !== undefined) change.Role = validateRole(input.Role);
      if (input.Handler !== undefined) change.Handler = String(input.Handler);
      if (input.Description !== undefined) change.Description = String(input.Description);
      if (input.Timeout !== undefined) change.Timeout = validateRange('timeout', input.Timeout, 1, 900);
      if (input.MemorySize !== undefined) change.MemorySize = validateRange('memorySize', input.MemorySize, 128, 10240);
      if (input.Environment !== undefined) change.Environment = { Variables: validateEnvironment(input.Environment) };
      this.replaceLatest(fn, change, fn.latest.code);
      return fn.latest.config;
    } finally {
      fn.updating = false;
    }
  }

  /** PublishVersion: a new immutable version, unless $LATEST equals the newest version already (then that one). */
  publishVersion(rawName: string, input: any): FunctionConfiguration {
    const fn = this.find(rawName);
    if (fn.updating) throw conflict(this.arn(fn.name));
    if (input.RevisionId && input.RevisionId !== fn.latest.config.RevisionId) throw revisionMismatch('GetFunction');
    if (input.CodeSha256 && input.CodeSha256 !== fn.latest.config.CodeSha256) {
      throw new LambdaError('InvalidParameterValueException', `CodeSHA256 (${input.CodeSha256}) is different from current CodeSHA256 in $LATEST (${fn.latest.config.CodeSha256}). Please try again with the CodeSHA256 in $LATEST.`);
    }
    return this.publish(fn, input);
  }

  /** ListFunctions: $LATEST of each function, in name order, paged by an opaque marker (the next name). */
  list(marker?: string, maxItems = 50) {
    const names = [...this.functions.values()].filter((f) => f.latest).map((f) => f.name).sort();
    const from = marker ? names.indexOf(Buffer.from(marker, 'base64url').toString('utf8')) : 0;
    if (from < 0) throw new LambdaError('InvalidParameterValueException', `Invalid marker: ${marker}`);
    const page = names.slice(from, from + Math.max(1, Math.min(maxItems, 10_000)));
    const next = names[from + page.length];
    return {
      Functions: page.map((n) => this.functions.get(n)!.latest.config),
      ...(next ? { NextMarker: Buffer.from(next).toString('base64url') } : {}),
    };
  }

  listVersions(rawName: string) {
    const fn = this.find(rawName);
    return { Versions: [fn.latest.config, ...[...fn.versions.values()].map((v) => v.config)] };
  }

  /** DeleteFunction: the whole function, or one published version (not one an alias points to). */
  delete(rawName: string, qualifier?: string): void {
    const fn = this.find(rawName);
    const version = qualifier ?? parseFunctionName(rawName).qualifier;
    if (version === undefined) {
      this.functions.delete(fn.name);
      for (const record of [fn.latest, ...fn.versions.values()]) this.options.retire(record.generation);
      return;
    }
    if (version === '$LATEST') throw new LambdaError('InvalidParameterValueException', '$LATEST version cannot be deleted without deleting the function.');
    const record = fn.versions.get(version);
    if (!record) throw notFound(this.arn(fn.name, version));
    const users = [...fn.aliases.values()]
      .filter((a) => a.FunctionVersion === version || a.RoutingConfig?.AdditionalVersionWeights[version] !== undefined);
    if (users.length > 0) {
      throw new LambdaError('ResourceConflictException', `Unable to delete version because the following aliases reference it: [${users.map((a) => a.Name).join(', ')}]`);
    }
    fn.versions.delete(version);
    this.options.retire(record.generation);
  }

  putConcurrency(rawName: string, input: any): { ReservedConcurrentExecutions: number } {
    const fn = this.find(rawName);
    const value = validateRange('reservedConcurrentExecutions', input.ReservedConcurrentExecutions, 0, this.options.accountConcurrency);
    const reservedByOthers = [...this.functions.values()].filter((f) => f !== fn).reduce((sum, f) => sum + (f.reservedConcurrency ?? 0), 0);
    if (this.options.accountConcurrency - reservedByOthers - value < 100) {
      throw new LambdaError('InvalidParameterValueException', "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100].");
    }
    fn.reservedConcurrency = value;
    return { ReservedConcurrentExecutions: value };
  }

  getConcurrency(rawName: string) {
    const fn = this.find(rawName);
    return fn.reservedConcurrency === undefined ? {} : { ReservedConcurrentExecutions: fn.reservedConcurrency };
  }

  deleteConcurrency(rawName: string): void {
    this.find(rawName).reservedConcurrency = undefined;
  }

  private startUpdate(rawName: string, revisionId: string | undefined): FunctionState {
    const fn = this.find(rawName);
    if (fn.updating) throw conflict(this.arn(fn.name));
    if (revisionId && revisionId !== fn.latest.config.RevisionId) throw revisionMismatch('GetFunction');
    fn.updating = true;
    return fn;
  }

  private replaceLatest(fn: FunctionState, change: Record<string, unknown>, code: StoredCode): void {
    const old = fn.latest;
    const fields = Object.fromEntries(CONFIG_FIELDS.map((f) => [f, change[f] ?? old.config[f]]));
    fn.latest = this.record(fn.name, '$LATEST', fields, code);
    this.options.retire(old.generation);
  }

  private publish(fn: FunctionState, input: any): FunctionConfiguration {
    const newest = [...fn.versions.values()].at(-1);
    if (newest && sameContent(newest.config, fn.latest.config)) return newest.config;
    const version = String(fn.nextVersion++);
    const fields = Object.fromEntries(CONFIG_FIELDS.map((f) => [f, fn.latest.config[f]]));
    if (input.Description !== undefined) fields.Description = String(input.Description);
    const record = this.record(fn.name, version, fields, fn.latest.code);
    fn.versions.set(version, record);
    // Publishing changes $LATEST's revision too, as in AWS; its code and warm children stay.
    fn.latest = { ...fn.latest, config: { ...fn.latest.config, RevisionId: randomUUID() } };
    return record.config;
  }

  private record(name: string, version: string, fields: Record<string, any>, code: StoredCode): VersionRecord {
    const config: FunctionConfiguration = {
      FunctionName: name,
      FunctionArn: this.arn(name, version === '$LATEST' ? undefined : version),
      Runtime: fields.Runtime,
      Role: fields.Role,
      Handler: fields.Handler,
      CodeSize: code.size,
      CodeSha256: code.sha256,
      Description: fields.Description,
      Timeout: fields.Timeout,
      MemorySize: fields.MemorySize,
      LastModified: new Date().toISOString().replace('Z', '+0000'),
      Version: version,
      Environment: fields.Environment,
      RevisionId: randomUUID(),
      State: 'Active',
      LastUpdateStatus: 'Successful',
      PackageType: 'Zip',
      Architectures: fields.Architectures,
    };
    return { config, code, generation: randomUUID() };
  }
}

function sameContent(a: FunctionConfiguration, b: FunctionConfiguration): boolean {
  return a.CodeSha256 === b.CodeSha256 && CONFIG_FIELDS.filter((f) => f !== 'Description').every((f) => JSON.stringify(a[f]) === JSON.stringify(b[f]));
}
