/**
 * LambdaRuntimeService's contract: what the construct, its handlers and the tests agree on. It
 * imports nothing, so the handlers' bundles and the construct share one copy of each name.
 *
 * This first slice holds the data layer's contract: the function registry (one table holding each
 * function's configuration, its deployment state and its rate-limit bucket), the invocation audit
 * (its own table, TTL'd), name rules, limits and defaults, the consumed BuildCompleted event and
 * the error names. Handlers and their environment are filled in by the slice that writes them.
 */

/* ------------------------------------------------------------------------------------------
 * Names: a platform namespace. A registered name is never an arbitrary AWS function name.
 * ---------------------------------------------------------------------------------------- */

/** A registered function's name: 1–40 of `a-z 0-9 -`, no leading or trailing dash. */
export const FUNCTION_NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;
export const FUNCTION_NAME_MAX_LENGTH = 40;

/**
 * The platform prefix (a construct prop): a letter, then letters, digits or dashes, no trailing
 * dash, at most 23 characters, so `{prefix}-{name}` is at most 64 (AWS Lambda's limit) and the
 * deploy role's IAM resource `function:{prefix}-*` covers exactly the platform's functions.
 */
export const FUNCTION_PREFIX_PATTERN = /^[A-Za-z](?:[A-Za-z0-9-]{0,21}[A-Za-z0-9])?$/;
export const AWS_FUNCTION_NAME_MAX_LENGTH = 64;

/** The AWS Lambda function name of a registered function: `{prefix}-{name}`. */
export const awsFunctionName = (prefix: string, name: string): string => `${prefix}-${name}`;

/** The alias invoke calls and deploys move (rollback moves it back). */
export const LIVE_ALIAS = 'live';

/**
 * A schedule's name within its function: 1–23 of `a-z 0-9 -`, no leading or trailing dash.
 * On EventBridge Scheduler every platform schedule lives in the group named by the prefix, as
 * `{functionName}.{scheduleName}` (at most 40 + 1 + 23 = 64, Scheduler's limit; `.` is in
 * neither name, so the split is unambiguous).
 */
export const SCHEDULE_NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,21}[a-z0-9])?$/;
export const awsScheduleName = (functionName: string, scheduleName: string): string => `${functionName}.${scheduleName}`;

/* ------------------------------------------------------------------------------------------
 * Runtimes and handlers (the build pipeline checks the archive; these are what may be registered).
 * A copy, not an import: contexts never import each other. Container builds are not deployable yet.
 * ---------------------------------------------------------------------------------------- */

export const SUPPORTED_RUNTIMES = ['nodejs20.x', 'nodejs22.x', 'nodejs24.x', 'python3.12', 'python3.13', 'provided.al2023'] as const;
export type SupportedRuntime = (typeof SUPPORTED_RUNTIMES)[number];

/** The handler setting when a registration names none; `provided.al2023` always uses `bootstrap`. */
export const DEFAULT_HANDLERS: Readonly<Record<SupportedRuntime, string>> = {
  'nodejs20.x': 'index.handler',
  'nodejs22.x': 'index.handler',
  'nodejs24.x': 'index.handler',
  'python3.12': 'lambda_function.lambda_handler',
  'python3.13': 'lambda_function.lambda_handler',
  'provided.al2023': 'bootstrap',
};

/** A `handler` setting: `<module path>.<function>`, letters, digits, `_ - / .` only (same rule as BuildPipeline's). */
export const HANDLER_SETTING_PATTERN = /^[A-Za-z0-9_\-/.]{1,120}\.[A-Za-z_$][A-Za-z0-9_$]{0,63}$/;

/* ------------------------------------------------------------------------------------------
 * Limits (construct props, enforced at registration) and per-function defaults.
 * ---------------------------------------------------------------------------------------- */

/** What a registration may ask for. Every field is a construct prop with the default below. */
export interface FunctionLimits {
  /** Largest `memoryMb` (Lambda: 128–10240). */
  readonly maxMemoryMb: number;
  /** Longest `timeoutSeconds` (Lambda: 1–900; a synchronous invoke through API Gateway gives up at 29 s). */
  readonly maxTimeoutSeconds: number;
  /** Highest `rateLimit.requestsPerSecond`. */
  readonly maxRequestsPerSecond: number;
  /** Highest `rateLimit.burst`. */
  readonly maxBurst: number;
  /** Most schedules per function. */
  readonly maxSchedules: number;
  /**
   * Highest `reservedConcurrency` a function may ask for (and its default): every platform
   * function gets reserved concurrency, so one function cannot starve the account's pool.
   */
  readonly maxReservedConcurrency: number;
}

export const DEFAULT_FUNCTION_LIMITS: FunctionLimits = {
  maxMemoryMb: 1024,
  maxTimeoutSeconds: 60,
  maxRequestsPerSecond: 100,
  maxBurst: 200,
  maxSchedules: 5,
  maxReservedConcurrency: 10,
};

/** Lambda's hard limits, not props. */
export const LAMBDA_LIMITS = {
  minMemoryMb: 128,
  maxMemoryMb: 10_240,
  maxTimeoutSeconds: 900,
  /** All environment variables together, measured as the UTF-8 bytes of the map's JSON (Lambda: 4 KB). */
  maxEnvironmentBytes: 4096,
} as const;

/** A schedule's payload (the Scheduler target's `Input`), UTF-8 bytes of its JSON. */
export const MAX_SCHEDULE_PAYLOAD_BYTES = 8192;

/** Environment variable names: Lambda's `[a-zA-Z]([a-zA-Z0-9_])+` (two characters at least); a name Lambda reserves is refused. */
export const ENVIRONMENT_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]+$/;
/** Lambda sets these (or refuses them): `AWS_*`, `_HANDLER`, `_X_AMZN_TRACE_ID`, `LAMBDA_TASK_ROOT`, `LAMBDA_RUNTIME_DIR`. */
export const RESERVED_ENVIRONMENT_NAME = /^(AWS_.*|LAMBDA_TASK_ROOT|LAMBDA_RUNTIME_DIR|_HANDLER|_X_AMZN_TRACE_ID)$/;

/** A function's per-call rate limit (per function, not per caller): `burst` calls at once, then `requestsPerSecond`. */
export interface RateLimit {
  readonly requestsPerSecond: number;
  readonly burst: number;
}

/**
 * How a new build's version takes the `live` alias's traffic (the plan's strangler migration).
 * - `all-at-once`: the alias moves in one step.
 * - `canary`: `live` routes `steps[0]`% of calls to the new version, then each later step after
 *   `stepMinutes`, then 100%. After each step's wait the new version's error rate (its audited
 *   invocations since the deploy) is checked: above `maxErrorRatePercent` with at least
 *   `minInvocations` calls, the deploy is rolled back automatically.
 */
export type DeploymentPolicy =
  | { readonly strategy: 'all-at-once' }
  | {
    readonly strategy: 'canary';
    /** Percentages of traffic on the new version, strictly ascending, each 1–99 (e.g. `[10, 50]`). */
    readonly steps: readonly number[];
    /** Minutes each step lasts before the next (1–1440). */
    readonly stepMinutes: number;
    /** Error rate of the new version that rolls the deploy back, percent (0–100). */
    readonly maxErrorRatePercent: number;
    /** Fewer invocations than this in a step are not judged (the step waits once more, then moves on). */
    readonly minInvocations: number;
  };

export const DEFAULT_CANARY_POLICY = { strategy: 'canary', steps: [10, 50], stepMinutes: 5, maxErrorRatePercent: 5, minInvocations: 10 } as const;

/** What a registration gets when it leaves a field out. */
export const DEFAULT_FUNCTION_SETTINGS = {
  memoryMb: 128,
  timeoutSeconds: 3,
  rateLimit: { requestsPerSecond: 10, burst: 20 } as RateLimit,
  /** Capped by {@link FunctionLimits.maxReservedConcurrency}. */
  reservedConcurrency: 5,
  deployment: { strategy: 'all-at-once' } as DeploymentPolicy,
} as const;

/** Runtime settings of the service (seconds); construct props with these defaults. */
export interface RuntimeSettings {
  /** How long a container serves a function's metadata from memory before reading the registry again. */
  readonly metadataCacheTtlSeconds: number;
  /** How long a container remembers that a function does not exist (0: never). */
  readonly metadataNegativeCacheTtlSeconds: number;
  /** Invocation audit items are deleted by TTL this long after the invocation started. */
  readonly auditRetentionSeconds: number;
  /** A deleted function's tombstone is deleted by TTL this long after its resources were purged. */
  readonly tombstoneRetentionSeconds: number;
}

export const DEFAULT_RUNTIME_SETTINGS: RuntimeSettings = {
  metadataCacheTtlSeconds: 10,
  metadataNegativeCacheTtlSeconds: 2,
  auditRetentionSeconds: 30 * 24 * 3600,
  tombstoneRetentionSeconds: 7 * 24 * 3600,
};

/* ------------------------------------------------------------------------------------------
 * The registry table.
 * ---------------------------------------------------------------------------------------- */

/**
 * The registry table. Items of one function share its partition `PK = FUNCTION#{name}`:
 * - `SK = META`: the configuration ({@link FunctionRecord}), its `version` counter (the API's ETag,
 *   `If-Match`), the deployment state (`currentDeployment`, `previousDeployment`, and the
 *   high-water mark `latestBuild = {build createdAt}#{buildId}` that never goes back, not even on
 *   rollback, so a redelivered or older BuildCompleted changes nothing), `registeredAt`, and on
 *   delete `deletedAt` (then `purgedAt` once the AWS function and schedules are gone).
 * - `SK = RATE`: the rate limiter's GCRA state (`tat`, microseconds since the epoch). Its own item,
 *   so the per-call write never touches the index keys of META.
 *
 * Listing uses two sparse indexes over one partition (`LIST_PK = FUNCTIONS`, set on live META items
 * only: delete removes it, so deleted functions drop out of listings): by name, and newest first by
 * `CREATED_SK = {registeredAt}#{name}`. One partition is fine for a registry (thousands of functions,
 * written on register/update/deploy only; the per-call RATE item carries no index keys).
 */
export const REGISTRY_TABLE_SCHEMA = {
  partitionKey: 'PK',
  sortKey: 'SK',
  nameIndex: { indexName: 'FunctionsByNameIndex', partitionKey: 'LIST_PK', sortKey: 'NAME_SK' },
  createdIndex: { indexName: 'FunctionsByCreatedIndex', partitionKey: 'LIST_PK', sortKey: 'CREATED_SK' },
  /** Epoch seconds: only purged tombstones carry it. */
  timeToLiveAttribute: 'ttl',
} as const;

export const RegistryLayout = {
  functionPk: (name: string) => `FUNCTION#${name}`,
  META_SK: 'META',
  RATE_SK: 'RATE',
  /** The one partition of both listing indexes. */
  LIST_PARTITION: 'FUNCTIONS',
  createdSortKey: (registeredAt: string, name: string) => `${registeredAt}#${name}`,
  /** The order of builds: later `createdAt` wins, the build id breaks ties. */
  buildOrder: (buildCreatedAt: string, buildId: string) => `${buildCreatedAt}#${buildId}`,
} as const;

/** A schedule of a function (EventBridge Scheduler). */
export interface FunctionSchedule {
  readonly name: string;
  /** `rate(5 minutes)`, `cron(0 9 ? * MON-FRI *)` or `at(2026-12-01T09:00:00)`. */
  readonly expression: string;
  /** IANA time zone of `cron`/`at` expressions. */
  readonly timezone: string;
  /** The event the function receives (JSON), at most {@link MAX_SCHEDULE_PAYLOAD_BYTES}. */
  readonly payload?: unknown;
}

/** One deployment of a build: a published Lambda version the `live` alias points at. */
export interface FunctionDeployment {
  readonly buildId: string;
  readonly buildCreatedAt: string;
  /** The published Lambda version number (as Lambda returns it, a string). */
  readonly lambdaVersion: string;
  readonly codeSha256?: string;
  readonly deployedAt: string;
}

/** A registered function as the registry returns it (table keys stripped). */
export interface FunctionRecord {
  readonly name: string;
  readonly runtime: SupportedRuntime;
  readonly handler: string;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  readonly environment: Readonly<Record<string, string>>;
  readonly rateLimit: RateLimit;
  readonly schedules: readonly FunctionSchedule[];
  /** Reserved concurrency of the AWS function (at most the construct's `maxReservedConcurrency`). */
  readonly reservedConcurrency: number;
  /** How a new build takes the traffic. */
  readonly deployment: DeploymentPolicy;
  /** Bumped by every configuration change (register, update, delete); not by deploys. The API's ETag. */
  readonly version: number;
  readonly registeredAt: string;
  readonly updatedAt: string;
  readonly currentDeployment?: FunctionDeployment;
  readonly previousDeployment?: FunctionDeployment;
  /** `{buildCreatedAt}#{buildId}` of the newest build ever recorded (never goes back). */
  readonly latestBuild?: string;
  /** Set on a name registered again after a deletion (the old `deletedAt`): older builds never deploy here. */
  readonly buildsNotBefore?: string;
  readonly deletedAt?: string;
  readonly purgedAt?: string;
}

/* ------------------------------------------------------------------------------------------
 * The invocation audit table.
 * ---------------------------------------------------------------------------------------- */

/**
 * The audit table: its own table (high volume, TTL'd, no PITR needed, unlike the registry).
 * One item per invocation keyed by its id, `PK = INVOCATION#{invocationId}`, so
 * `GET /v1.0/invocations/{id}` is one strongly consistent GetItem and an async invocation's
 * completion is one conditional UpdateItem by id. The index `FunctionInvocationsIndex`
 * (`FN_PK = FUNCTION#{name}`, `FN_SK = {startedAt}#{invocationId}`) serves a function's history
 * by time range, newest first. Writes spread over ids; a function above ~1000 invocations/s would
 * make its index partition hot (shard `FN_PK` then).
 */
export const AUDIT_TABLE_SCHEMA = {
  partitionKey: 'PK',
  functionIndex: { indexName: 'FunctionInvocationsIndex', partitionKey: 'FN_PK', sortKey: 'FN_SK' },
  timeToLiveAttribute: 'ttl',
} as const;

export const AuditLayout = {
  invocationPk: (invocationId: string) => `INVOCATION#${invocationId}`,
  functionPk: (name: string) => `FUNCTION#${name}`,
  functionSortKey: (startedAt: string, invocationId: string) => `${startedAt}#${invocationId}`,
  /**
   * An async invocation's Lambda request id → its invocation id (`invocationId` attribute, TTL'd
   * like the audit). Lambda's destination records name the request id only; the completion
   * handler follows this pointer. Invocations the platform did not start (schedules) have no
   * pointer: their record is created at completion with the request id as invocation id.
   */
  requestPk: (requestId: string) => `LAMBDA_REQUEST#${requestId}`,
} as const;

/** An invocation's status: `pending` (async, accepted, not finished) moves once to one of the others. */
export const InvocationStatus = {
  PENDING: 'pending',
  SUCCESS: 'success',
  ERROR: 'error',
  THROTTLED: 'throttled',
  TIMEOUT: 'timeout',
} as const;
export type InvocationStatusValue = (typeof InvocationStatus)[keyof typeof InvocationStatus];

/** Bounds of what an audit item keeps of caller- or function-supplied text. */
export const AUDIT_FIELD_LIMITS = { errorType: 128, errorMessage: 1024, correlationId: 128 } as const;

/** An invocation id as the platform makes it (UUID); anything else is refused before a read. */
export const INVOCATION_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;

/* ------------------------------------------------------------------------------------------
 * Events.
 * ---------------------------------------------------------------------------------------- */

/**
 * Consumed: BuildPipeline's `BuildCompleted` (EventBridge `source` and `detail-type`), on the bus
 * given as a prop. Named here, not imported: contexts never import each other.
 */
export const CONSUMED_BUILD_EVENT = {
  source: 'cdk-event-services.build-pipeline',
  detailType: 'BuildCompleted',
} as const;

/** The fields of BuildCompleted's envelope `payload` the deploy path reads (BuildPipeline's BuildEventPayload). */
export interface ConsumedBuildCompleted {
  readonly jobId: string;
  readonly functionName: string;
  readonly runtime: string;
  readonly handler: string;
  readonly createdAt: string;
  readonly artifact?: { readonly bucket: string; readonly key: string; readonly sha256: string; readonly size: number };
}

/* ------------------------------------------------------------------------------------------
 * Errors: each maps to one HTTP status in the API (`{ error: { code, message, correlationId } }`).
 * ---------------------------------------------------------------------------------------- */

export const LambdaRuntimeErrors = {
  /** 409: a live function has this name. */
  FUNCTION_EXISTS: 'FUNCTION_EXISTS',
  /** 409: a deleted function of this name is still being purged (its AWS function and schedules). */
  FUNCTION_BEING_DELETED: 'FUNCTION_BEING_DELETED',
  /** 404: no live function of this name. */
  FUNCTION_NOT_FOUND: 'FUNCTION_NOT_FOUND',
  /** 412: `If-Match` names another version than the current one. */
  VERSION_MISMATCH: 'VERSION_MISMATCH',
  /** 409: rollback with no previous deployment. */
  NOTHING_TO_ROLL_BACK: 'NOTHING_TO_ROLL_BACK',
  /** 429: the function's rate limit (with `Retry-After`). */
  RATE_LIMITED: 'RATE_LIMITED',
  /** 404: no invocation with this id (or past its retention). */
  INVOCATION_NOT_FOUND: 'INVOCATION_NOT_FOUND',
} as const;

/* ------------------------------------------------------------------------------------------
 * Environment and handlers.
 * ---------------------------------------------------------------------------------------- */

/** Environment variables the construct sets and the handlers read. */
export const LambdaRuntimeEnv = {
  REGISTRY_TABLE_NAME: 'FUNCTION_REGISTRY_TABLE_NAME',
  AUDIT_TABLE_NAME: 'INVOCATION_AUDIT_TABLE_NAME',
  /** The platform prefix of AWS function names ({@link FUNCTION_PREFIX_PATTERN}). */
  FUNCTION_PREFIX: 'FUNCTION_NAME_PREFIX',
  /** JSON of {@link FunctionLimits} (every field present). */
  FUNCTION_LIMITS: 'FUNCTION_LIMITS',
  /** JSON of {@link RuntimeSettings} (every field present). */
  RUNTIME_SETTINGS: 'RUNTIME_SETTINGS',
  /** ARN of the secret whose value keys the HMAC of list page tokens (`nextToken`). */
  PAGE_TOKEN_SECRET_ARN: 'PAGE_TOKEN_SECRET_ARN',
  /** ARN of the one execution role of platform functions (the deploy role may pass only it). */
  EXECUTION_ROLE_ARN: 'PLATFORM_EXECUTION_ROLE_ARN',
  /** JSON object of the tags every platform function carries (see {@link PLATFORM_TAG_KEY}). */
  FUNCTION_TAGS: 'PLATFORM_FUNCTION_TAGS',
  /** ARN of the SQS queue Lambda's on-success destination of async invocations sends to. */
  ASYNC_SUCCESS_DESTINATION_ARN: 'ASYNC_SUCCESS_DESTINATION_ARN',
  /** ARN of the SNS topic Lambda's on-failure destination publishes to (fans out to the DLQ and the results queue). */
  ASYNC_FAILURE_DESTINATION_ARN: 'ASYNC_FAILURE_DESTINATION_ARN',
  /** URL of the queue of delayed canary checks ({@link CanaryCheckMessage}). */
  CANARY_QUEUE_URL: 'CANARY_QUEUE_URL',
  /** The EventBridge Scheduler group holding every platform schedule. */
  SCHEDULE_GROUP_NAME: 'SCHEDULE_GROUP_NAME',
  /** The role Scheduler assumes to invoke `live` aliases of platform functions. */
  SCHEDULER_ROLE_ARN: 'SCHEDULER_ROLE_ARN',
  /** The SQS DLQ of schedule invocations Scheduler could not deliver. */
  SCHEDULE_DLQ_ARN: 'SCHEDULE_DLQ_ARN',
  /** JSON of {@link ScheduleSettings}. */
  SCHEDULE_SETTINGS: 'SCHEDULE_SETTINGS',
  /** `arn:{partition}:lambda:{region}:{account}:function:`: the ARN of `{prefix}-{name}` is this + the AWS name. */
  FUNCTION_ARN_BASE: 'FUNCTION_ARN_BASE',
  /** ARN of the secret signing async result callbacks (`{current, previous?, previousUntil?}` or a plain string). */
  CALLBACK_SECRET_ARN: 'CALLBACK_SECRET_ARN',
  /** JSON of {@link CallbackSettings}. */
  CALLBACK_SETTINGS: 'CALLBACK_SETTINGS',
  /** The JWT authorizer's issuer (`iss`; its keys from `{issuer}/.well-known/openid-configuration`'s `jwks_uri`, else `/.well-known/jwks.json`). */
  JWT_ISSUER: 'JWT_ISSUER',
  /** JSON array of accepted audiences (`aud`). */
  JWT_AUDIENCE: 'JWT_AUDIENCE',
} as const;

const R = LambdaRuntimeEnv;

/** The tag every platform function carries (value: the prefix): the IAM conditions of the deploy role key on it. */
export const PLATFORM_TAG_KEY = 'cdk-event-services:platform';

/** EventBridge Scheduler settings of every platform schedule; construct props with these defaults. */
export interface ScheduleSettings {
  /** Attempts Scheduler makes to invoke before the event goes to the schedule DLQ (0–185). */
  readonly maximumRetryAttempts: number;
  /** Age after which Scheduler stops retrying, seconds (60–86400). */
  readonly maximumEventAgeSeconds: number;
}
export const DEFAULT_SCHEDULE_SETTINGS: ScheduleSettings = { maximumRetryAttempts: 3, maximumEventAgeSeconds: 3600 };

/** Callback delivery of async results; construct props with these defaults. */
export interface CallbackSettings {
  /** Attempts per callback before the result message goes to the results DLQ (the results queue's maxReceiveCount). */
  readonly maxAttempts: number;
  /** First retry delay, ms (exponential, full jitter). */
  readonly baseDelayMs: number;
  /** Longest retry delay, ms (SQS visibility: at most 12 h). */
  readonly maxDelayMs: number;
  /** Time allowed per attempt, ms (connect + response). */
  readonly timeoutMs: number;
}
export const DEFAULT_CALLBACK_SETTINGS: CallbackSettings = { maxAttempts: 8, baseDelayMs: 1000, maxDelayMs: 3_600_000, timeoutMs: 10_000 };

/** A delayed message on the canary queue: judge `lambdaVersion` of `name` at step `step` (index into `steps`). */
export interface CanaryCheckMessage {
  readonly name: string;
  readonly buildId: string;
  readonly lambdaVersion: string;
  readonly step: number;
  /** ISO time the step started (its invocations are judged from then). */
  readonly stepStartedAt: string;
  /** ISO time the check is due (SQS delays at most 15 minutes: earlier receipts wait again). */
  readonly dueAt: string;
  /** How many times a step was extended for lack of invocations. */
  readonly extensions?: number;
}

/** CloudWatch namespace of the platform's per-function metrics (Powertools metrics, EMF). */
export const LAMBDA_RUNTIME_METRICS_NAMESPACE = 'CdkEventServices/LambdaRuntime';
/** Metric names (dimension `FunctionName` = the registered name, plus `service`). */
export const LambdaRuntimeMetrics = {
  INVOCATIONS: 'Invocations',
  ERRORS: 'Errors',
  THROTTLES: 'Throttles',
  DURATION: 'Duration',
  COLD_STARTS: 'ColdStart',
  CACHE_HITS: 'MetadataCacheHits',
  CACHE_MISSES: 'MetadataCacheMisses',
  ROLLBACKS: 'CanaryRollbacks',
} as const;

/**
 * The invoke handler's log message per recorded call, with top-level `functionName` and `status`
 * ({@link InvocationStatus}): the construct's all-functions metrics (calls, errors, throttles, for
 * alarms, which cannot sum EMF metrics across the FunctionName dimension) are metric filters on it.
 */
export const INVOCATION_LOG_MESSAGE = 'Invocation recorded';

/** One entry per Lambda handler (`entry`, `serviceName`, `environment`), as BuildPipelineHandlers. */
export const LambdaRuntimeHandlers = {
  /** POST/GET /v1.0/functions, GET/PATCH/DELETE /v1.0/functions/{name}. */
  registryApi: {
    entry: 'lambda-runtime-service/registry-api',
    serviceName: 'lambda-runtime-registry',
    environment: [R.REGISTRY_TABLE_NAME, R.FUNCTION_LIMITS, R.PAGE_TOKEN_SECRET_ARN],
  },
  /** POST /v1.0/functions/{name}/rollback: the registry's previous deployment becomes live. */
  rollback: {
    entry: 'lambda-runtime-service/rollback-function',
    serviceName: 'lambda-runtime-rollback',
    environment: [R.REGISTRY_TABLE_NAME, R.FUNCTION_LIMITS, R.FUNCTION_PREFIX],
  },
  /** POST /v1.0/functions/{name}/invoke (sync, or `?mode=async` → 202). */
  invoke: {
    entry: 'lambda-runtime-service/invoke-function',
    serviceName: 'lambda-runtime-invoke',
    environment: [R.REGISTRY_TABLE_NAME, R.AUDIT_TABLE_NAME, R.FUNCTION_PREFIX, R.FUNCTION_LIMITS, R.RUNTIME_SETTINGS],
  },
  /** GET /v1.0/invocations/{id}, GET /v1.0/functions/{name}/invocations?from=&to=. */
  readInvocations: {
    entry: 'lambda-runtime-service/read-invocations',
    serviceName: 'lambda-runtime-invocations',
    environment: [R.AUDIT_TABLE_NAME, R.PAGE_TOKEN_SECRET_ARN, R.RUNTIME_SETTINGS],
  },
  /** The deploy queue (BuildCompleted from the build bus): create/update, publish, move `live`. */
  deployBuilds: {
    entry: 'lambda-runtime-service/deploy-builds',
    serviceName: 'lambda-runtime-deploy',
    environment: [
      R.REGISTRY_TABLE_NAME, R.FUNCTION_PREFIX, R.FUNCTION_LIMITS, R.EXECUTION_ROLE_ARN, R.FUNCTION_TAGS,
      R.ASYNC_SUCCESS_DESTINATION_ARN, R.ASYNC_FAILURE_DESTINATION_ARN, R.CANARY_QUEUE_URL,
    ],
  },
  /** The canary queue (delayed checks): next step, promote, or automatic rollback on the error rate. */
  checkCanaries: {
    entry: 'lambda-runtime-service/check-canaries',
    serviceName: 'lambda-runtime-canary',
    environment: [R.REGISTRY_TABLE_NAME, R.AUDIT_TABLE_NAME, R.FUNCTION_PREFIX, R.FUNCTION_LIMITS, R.CANARY_QUEUE_URL],
  },
  /** The registry table's stream: schedules follow the registry; a deleted function's AWS resources are purged. */
  syncRegistry: {
    entry: 'lambda-runtime-service/sync-registry',
    serviceName: 'lambda-runtime-sync',
    environment: [
      R.REGISTRY_TABLE_NAME, R.FUNCTION_PREFIX, R.FUNCTION_LIMITS, R.FUNCTION_ARN_BASE, R.RUNTIME_SETTINGS,
      R.SCHEDULE_GROUP_NAME, R.SCHEDULER_ROLE_ARN, R.SCHEDULE_DLQ_ARN, R.SCHEDULE_SETTINGS,
    ],
  },
  /** The async results queue (Lambda destinations): completes the audit record, POSTs the signed callback. */
  completeInvocations: {
    entry: 'lambda-runtime-service/complete-invocations',
    serviceName: 'lambda-runtime-results',
    environment: [R.AUDIT_TABLE_NAME, R.FUNCTION_PREFIX, R.RUNTIME_SETTINGS, R.CALLBACK_SECRET_ARN, R.CALLBACK_SETTINGS],
  },
  /** REST API token authorizer: an asymmetrically signed JWT (RS/PS/ES) of the issuer for one of the audiences. */
  jwtAuthorizer: {
    entry: 'lambda-runtime-service/jwt-authorizer',
    serviceName: 'lambda-runtime-jwt',
    environment: [R.JWT_ISSUER, R.JWT_AUDIENCE],
  },
} as const;
