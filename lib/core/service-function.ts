import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { BundlingOptions, NodejsFunction, NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { createLogGroup } from './encryption';
import { aliasArgs, HANDLER_SOURCES_DIR, handlerAssetDir, SERVICE_FUNCTION_BUNDLING } from './handler-bundling';
import { acknowledgeFindings, inBothRegulatoryPacks } from './nag';
import { propError } from './prop-checks';

/**
 * What a handler and its construct agree on, declared once in `lib/<service>/contract.ts`:
 * the handler's bundle, its Powertools service name and the environment variables it reads.
 */
export interface HandlerContract {
  /** `<service>/<handler>`: source `functions/<service>/<handler>.ts`, bundle `assets/…/<service>/<handler>/index.js`. */
  readonly entry: string;
  /** Powertools service name (logs, metrics). */
  readonly serviceName: string;
  /** Every variable the handler reads; the construct must set exactly these. */
  readonly environment: readonly string[];
}

/**
 * Context key: bundle handlers from the shipped sources with local esbuild instead of
 * using the pre-built bundles. `true`, or NodejsFunction `bundling` options to merge over
 * the library's. The handlers' runtime libraries must then be installed in the app.
 */
export const BUNDLE_FROM_SOURCE_CONTEXT = 'cdk-event-services:bundleFromSource';

/** Properties of a {@link ServiceFunction}. */
export interface ServiceFunctionProps extends Omit<NodejsFunctionProps, 'entry' | 'handler' | 'code' | 'bundling' | 'environment'> {
  /** The handler's contract (entry, service name, variables). */
  readonly contract: HandlerContract;
  /** Values of exactly the variables the contract lists. */
  readonly environment: Record<string, string>;
  /**
   * Powertools log level.
   * @default 'INFO'
   */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /**
   * How long the function's log group keeps its logs.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Use the bundle built with a sidecar source map and turn on `--enable-source-maps`.
   * Off by default: measured here, it adds ~20–25 ms to every cold start.
   * @default false
   */
  readonly sourceMaps?: boolean;
  /**
   * Customer-managed key for the function's log group.
   * @default - CloudWatch Logs' own encryption
   */
  readonly logEncryptionKey?: kms.IKey;
}

/**
 * The library's Lambda function: a NodejsFunction (Node.js 24, arm64, X-Ray, JSON logs
 * with retention) whose code is the handler bundle built when the library was built, so
 * the consumer's synth runs no esbuild and every app gets the same asset hash.
 */
export class ServiceFunction extends NodejsFunction {
  /** The contract this function was built from. */
  public readonly contract: HandlerContract;

  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    // Our logRetention sets the retention of an explicit log group; NodejsFunction's own
    // (deprecated) logRetention would add a custom resource, so it is not passed on.
    const { contract, logLevel, logRetention, logEncryptionKey, sourceMaps: sourceMapsProp, environment, ...functionProps } = props;
    checkEnvironment(scope, id, contract, environment);
    const sourceMaps = sourceMapsProp ?? false;
    const logGroup = props.logGroup ?? createLogGroup(scope, `${id}LogGroup`, {
      retention: logRetention ?? logs.RetentionDays.THREE_MONTHS,
      encryptionKey: logEncryptionKey,
    });
    super(scope, id, {
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      tracing: lambda.Tracing.ACTIVE,
      loggingFormat: lambda.LoggingFormat.JSON,
      memorySize: 512,
      timeout: Duration.seconds(10),
      ...functionProps,
      ...codeOf(scope, contract, sourceMaps),
      logGroup,
      environment: {
        POWERTOOLS_SERVICE_NAME: contract.serviceName,
        POWERTOOLS_LOG_LEVEL: logLevel ?? 'INFO',
        ...(sourceMaps ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
        ...environment,
      },
    });
    this.contract = contract;
    acknowledgeFindings(this, {
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]':
        'AWSLambdaBasicExecutionRole is the managed policy AWS documents for a function writing its own logs.',
      'AwsSolutions-IAM5[Resource::*]': 'X-Ray PutTraceSegments/PutTelemetryRecords have no resource-level permissions.',
      ...inBothRegulatoryPacks('LambdaInsideVPC', 'The function calls only AWS APIs (TLS, SigV4) and, for webhooks, the public internet; ' +
        'it reaches no private network resource. A VPC would add NAT or endpoint cost and cold-start ENIs for no isolation gain.'),
      ...inBothRegulatoryPacks('IAMNoInlinePolicy', 'CDK grants write the role\'s least-privilege statements, scoped to this construct\'s ' +
        'resources, as the role\'s own policy; a managed policy would be a separate, attachable object that no other role should get.'),
      'NIST.800.53.R5-LambdaConcurrency': 'Reserved concurrency would carve a fixed share out of the account\'s pool per function; ' +
        'the constructs bound load where it arrives (API throttling and usage plans, SQS event source maxConcurrency) and the ' +
        'functions are exposed for users who reserve capacity.',
      'NIST.800.53.R5-LambdaDLQ': 'Nothing invokes these functions asynchronously without its own failure path: SQS sources redrive ' +
        'to their DLQ, stream sources have an on-failure destination, API and Step Functions calls are synchronous, and schedules ' +
        'carry their own DLQ.',
    });
  }
}

/** A construct that sets a variable its handler never reads, or misses one it reads, is a library bug: fail synth. */
function checkEnvironment(scope: Construct, id: string, contract: HandlerContract, environment: Record<string, string>): void {
  const expected = new Set(contract.environment);
  const given = Object.keys(environment);
  const missing = [...expected].filter((name) => !given.includes(name));
  const extra = given.filter((name) => !expected.has(name));
  if (missing.length || extra.length) {
    throw propError(scope, `${id}.environment`, `handler ${contract.entry} reads [${[...expected].join(', ')}]; ` +
      `missing [${missing.join(', ')}], not read [${extra.join(', ')}]`);
  }
}

/** The pre-built bundle, or (context `cdk-event-services:bundleFromSource`) the source with local esbuild. */
function codeOf(scope: Construct, contract: HandlerContract, sourceMaps: boolean):
Pick<NodejsFunctionProps, 'code' | 'handler' | 'entry' | 'bundling'> {
  const fromSource = scope.node.tryGetContext(BUNDLE_FROM_SOURCE_CONTEXT) as boolean | BundlingOptions | undefined;
  if (fromSource) {
    return {
      entry: path.join(HANDLER_SOURCES_DIR, `${contract.entry}.ts`),
      bundling: {
        ...SERVICE_FUNCTION_BUNDLING,
        esbuildArgs: { ...SERVICE_FUNCTION_BUNDLING.esbuildArgs, ...aliasArgs(path.join(HANDLER_SOURCES_DIR, '..')) },
        sourceMap: sourceMaps,
        sourcesContent: false,
        ...(typeof fromSource === 'object' ? fromSource : {}),
      },
    };
  }
  const dir = handlerAssetDir(contract.entry, sourceMaps);
  if (!existsSync(path.join(dir, 'index.js'))) {
    throw propError(scope, 'contract.entry', `no pre-built bundle at ${dir}: run 'npx projen compile' ` +
      '(a published package always has them; this is a source checkout that was never compiled)');
  }
  return { code: lambda.Code.fromAsset(dir), handler: 'index.handler' };
}
