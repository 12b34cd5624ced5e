/**
 * BuildPipeline's contract: what the construct, its handlers and the tests agree on. It
 * imports nothing, so the handlers' bundles and the construct share one copy of each name.
 *
 * This first slice holds the worker's ZIP rules: limits and their defaults, the handler
 * file each runtime needs, the failure reason codes and the artifact key layout.
 */

/** Limits on an uploaded archive. Every one is a construct prop with this default. */
export interface ZipLimits {
  /** Largest accepted upload (the compressed ZIP), bytes. Also the presigned POST's `content-length-range`. */
  readonly maxUploadBytes: number;
  /** Most entries (files and folders) in the central directory. */
  readonly maxEntries: number;
  /** Most bytes all files may inflate to, counted while inflating (headers are never trusted). */
  readonly maxTotalUncompressedBytes: number;
  /** Highest inflated / compressed ratio of one entry. */
  readonly maxCompressionRatio: number;
  /**
   * An entry may inflate to this many bytes before the ratio applies, so a small, very
   * repetitive file (a 40 KB lockfile of spaces) is not called a bomb.
   */
  readonly ratioGraceBytes: number;
  /** Longest normalized path, UTF-8 bytes (S3 keys stop at 1024 with the prefix). */
  readonly maxPathBytes: number;
  /** Paths equal but for case (`A.js`, `a.js`): `warn` lists them in the manifest, `reject` fails the build. */
  readonly caseOnlyDuplicates: 'warn' | 'reject';
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  // Lambda's own limits: 50 MB zipped upload, 250 MB unzipped.
  maxUploadBytes: 50 * 1024 * 1024,
  maxEntries: 10_000,
  maxTotalUncompressedBytes: 250 * 1024 * 1024,
  // Source and minified JS deflate 3-10x; deflate itself tops out near 1032x.
  maxCompressionRatio: 200,
  ratioGraceBytes: 1024 * 1024,
  maxPathBytes: 512,
  caseOnlyDuplicates: 'warn',
};

/** Why a build failed; each comes with a message the user can act on. */
export const BuildFailureReason = {
  ARCHIVE_TOO_LARGE: 'ARCHIVE_TOO_LARGE',
  NOT_A_ZIP: 'NOT_A_ZIP',
  CORRUPT_ARCHIVE: 'CORRUPT_ARCHIVE',
  EMPTY_ARCHIVE: 'EMPTY_ARCHIVE',
  TOO_MANY_ENTRIES: 'TOO_MANY_ENTRIES',
  UNSAFE_PATH: 'UNSAFE_PATH',
  SYMLINK_ENTRY: 'SYMLINK_ENTRY',
  SPECIAL_FILE_ENTRY: 'SPECIAL_FILE_ENTRY',
  DUPLICATE_ENTRY: 'DUPLICATE_ENTRY',
  ENCRYPTED_ENTRY: 'ENCRYPTED_ENTRY',
  UNSUPPORTED_COMPRESSION: 'UNSUPPORTED_COMPRESSION',
  /** Central directory and local header disagree (name, flags, method): tools would see different files. */
  HEADER_MISMATCH: 'HEADER_MISMATCH',
  /** Two entries share bytes (overlapping-entry zip bomb). */
  OVERLAPPING_ENTRIES: 'OVERLAPPING_ENTRIES',
  /** An entry inflates to another size than its header says, or its CRC-32 is wrong. */
  ENTRY_SIZE_MISMATCH: 'ENTRY_SIZE_MISMATCH',
  CORRUPT_ENTRY: 'CORRUPT_ENTRY',
  UNCOMPRESSED_TOO_LARGE: 'UNCOMPRESSED_TOO_LARGE',
  COMPRESSION_RATIO_EXCEEDED: 'COMPRESSION_RATIO_EXCEEDED',
  UNSUPPORTED_RUNTIME: 'UNSUPPORTED_RUNTIME',
  INVALID_HANDLER: 'INVALID_HANDLER',
  HANDLER_FILE_MISSING: 'HANDLER_FILE_MISSING',
} as const;
export type BuildFailureReasonCode = (typeof BuildFailureReason)[keyof typeof BuildFailureReason];

/** How a runtime family finds its handler file from the `handler` setting (`<module>.<function>`). */
export interface RuntimeHandlerRule {
  /** The `handler` setting when none is given. */
  readonly defaultHandler: string;
  /** Extensions tried, in order, after the module path. */
  readonly extensions: readonly string[];
  /** Python modules may be dotted (`pkg.mod.fn` → `pkg/mod.py`); Node's are paths (`src/app.fn` → `src/app.js`). */
  readonly dottedModules: boolean;
  /** A fixed file instead of a module (custom runtimes: `bootstrap`). */
  readonly fixedFile?: string;
}

const NODE_RULE: RuntimeHandlerRule = { defaultHandler: 'index.handler', extensions: ['.js', '.mjs', '.cjs'], dottedModules: false };
const PYTHON_RULE: RuntimeHandlerRule = { defaultHandler: 'lambda_function.lambda_handler', extensions: ['.py'], dottedModules: true };
const CUSTOM_RULE: RuntimeHandlerRule = { defaultHandler: 'bootstrap', extensions: [], dottedModules: false, fixedFile: 'bootstrap' };
const CONTAINER_RULE: RuntimeHandlerRule = { defaultHandler: 'Dockerfile', extensions: [], dottedModules: false, fixedFile: 'Dockerfile' };

/** Runtimes a build accepts, and the file each needs in the archive (paths from the ZIP's root). */
export const RUNTIME_HANDLER_RULES: Readonly<Record<string, RuntimeHandlerRule>> = {
  'nodejs20.x': NODE_RULE,
  'nodejs22.x': NODE_RULE,
  'nodejs24.x': NODE_RULE,
  'python3.12': PYTHON_RULE,
  'python3.13': PYTHON_RULE,
  'provided.al2023': CUSTOM_RULE,
  /** Opt-in (`containerBuilds`): built by CodeBuild into an image in the pipeline's ECR repository. */
  'container': CONTAINER_RULE,
};

/** A `handler` setting: `<module path>.<function>`, letters, digits, `_ - / .` only. */
export const HANDLER_SETTING_PATTERN = /^[A-Za-z0-9_\-/.]{1,120}\.[A-Za-z_$][A-Za-z0-9_$]{0,63}$/;

/** A job id as the API makes it (UUID); anything else could leave the job's prefix. */
export const JOB_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;

/** Where a job's artifacts live in the artifacts bucket: everything under `builds/{jobId}/`. */
export const ArtifactLayout = {
  ROOT: 'builds',
  prefix: (jobId: string) => `builds/${jobId}/`,
  /** One extracted file: `builds/{jobId}/files/{normalized path}`. */
  fileKey: (jobId: string, path: string) => `builds/${jobId}/files/${path}`,
  /** The manifest (files, sizes, SHA-256), written last: its presence marks a complete extraction. */
  manifestKey: (jobId: string) => `builds/${jobId}/manifest.json`,
  /** The normalized deployment ZIP. */
  artifactKey: (jobId: string) => `builds/${jobId}/artifact.zip`,
} as const;

/** Manifest format version, bumped on any change to its shape. */
export const MANIFEST_VERSION = 1;

/* ------------------------------------------------------------------------------------------
 * Build jobs: one DynamoDB table holds each job and the Idempotency-Key items of creates.
 * ---------------------------------------------------------------------------------------- */

/**
 * The jobs table. A job is `PK = JOB#{jobId}`, `SK = JOB`; an Idempotency-Key is
 * `PK = IDEMPOTENCY#{sha256(key)}`, `SK = KEY` (it names the job it created). Only jobs carry
 * the index keys (sparse): `FN_PK = FUNCTION#{functionName}`, `FN_SK = {createdAt}#{jobId}`,
 * so a function's builds read newest first with `ScanIndexForward: false`.
 */
export const BUILD_JOBS_TABLE_SCHEMA = {
  partitionKey: 'PK',
  sortKey: 'SK',
  /** A function's builds by creation time. */
  functionIndex: { indexName: 'FunctionBuildsIndex', partitionKey: 'FN_PK', sortKey: 'FN_SK' },
  /**
   * Jobs waiting for their upload, by expiry: `AW_PK = AWAITING`, `AW_SK = {uploadExpiresAt}#{jobId}`.
   * Sparse: the first transition out of `awaiting_upload` removes both, so the expiry sweep reads only waiting jobs.
   */
  awaitingUploadIndex: { indexName: 'AwaitingUploadIndex', partitionKey: 'AW_PK', sortKey: 'AW_SK' },
  /** Epoch seconds: jobs after their retention, Idempotency-Key items after their window. */
  timeToLiveAttribute: 'ttl',
} as const;

/** A job's status; it only moves forward, in this order. */
export const BuildJobStatus = {
  AWAITING_UPLOAD: 'awaiting_upload',
  QUEUED: 'queued',
  BUILDING: 'building',
  COMPLETED: 'completed',
  FAILED: 'failed',
} as const;
export type BuildJobStatusValue = (typeof BuildJobStatus)[keyof typeof BuildJobStatus];

/** Failure reasons of a job: the ZIP checks' reasons and the job's own. */
export const BuildJobFailureReason = {
  ...BuildFailureReason,
  /** No upload arrived before `uploadExpiresAt`. */
  UPLOAD_EXPIRED: 'UPLOAD_EXPIRED',
  /** The worker failed for a reason that is not the archive's (after its retries). */
  INTERNAL_ERROR: 'INTERNAL_ERROR',
  /** A container build's Dockerfile build or image push failed (the CodeBuild logs say why). */
  CONTAINER_BUILD_FAILED: 'CONTAINER_BUILD_FAILED',
  /** `runtime: container` on a pipeline without container builds (refused at create as a 4xx too). */
  CONTAINER_BUILDS_DISABLED: 'CONTAINER_BUILDS_DISABLED',
} as const;
export type BuildJobFailureReasonCode = (typeof BuildJobFailureReason)[keyof typeof BuildJobFailureReason];

/** Time settings of the job store (seconds); construct props with these defaults. */
export interface BuildJobSettings {
  /** How long the presigned upload is valid, and when an upload-less job expires. */
  readonly uploadWindowSeconds: number;
  /** How long a worker's `building` lease lasts; another worker may take over after it. Above the worker's timeout. */
  readonly leaseSeconds: number;
  /** Job records are deleted by TTL this long after creation. */
  readonly jobRetentionSeconds: number;
  /** How long an Idempotency-Key replays its job. */
  readonly idempotencyKeySeconds: number;
  /** The CodeBuild timeout of container builds; the worker hands the lease to CodeBuild for this plus 15 minutes. */
  readonly containerBuildTimeoutSeconds: number;
}

export const DEFAULT_BUILD_JOB_SETTINGS: BuildJobSettings = {
  uploadWindowSeconds: 15 * 60,
  leaseSeconds: 16 * 60, // the worker's Lambda timeout is at most 15 minutes
  jobRetentionSeconds: 30 * 24 * 3600,
  idempotencyKeySeconds: 24 * 3600,
  containerBuildTimeoutSeconds: 3600,
};

/** Where an upload lands in the uploads bucket: exactly one key per job, nothing else is accepted. */
export const UploadLayout = {
  PREFIX: 'uploads/',
  key: (jobId: string) => `uploads/${jobId}.zip`,
  CONTENT_TYPE: 'application/zip',
} as const;

/** BuildPipeline's event types (detail-type), one per real status change. */
export const BuildEvents = {
  QUEUED: 'BuildQueued',
  STARTED: 'BuildStarted',
  COMPLETED: 'BuildCompleted',
  FAILED: 'BuildFailed',
} as const;
export type BuildEventType = (typeof BuildEvents)[keyof typeof BuildEvents];

/** Error names of the job store (each maps to an HTTP status in the API). */
export const BuildJobErrors = {
  /** Same Idempotency-Key, another body: 422. */
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
} as const;

/* ------------------------------------------------------------------------------------------
 * Handlers, environment and settings.
 * ---------------------------------------------------------------------------------------- */

/** Environment variables the construct sets and the handlers read. */
export const BuildPipelineEnv = {
  JOBS_TABLE_NAME: 'BUILD_JOBS_TABLE_NAME',
  UPLOADS_BUCKET_NAME: 'UPLOADS_BUCKET_NAME',
  ARTIFACTS_BUCKET_NAME: 'ARTIFACTS_BUCKET_NAME',
  EVENT_BUS_NAME: 'EVENT_BUS_NAME',
  /** ARN of the secret whose value keys the HMAC of list page tokens (`nextToken`). */
  PAGE_TOKEN_SECRET_ARN: 'PAGE_TOKEN_SECRET_ARN',
  /** ARN of the webhook signing secret ({@link WebhookSecretValue}). */
  WEBHOOK_SECRET_ARN: 'WEBHOOK_SECRET_ARN',
  /** JSON of {@link ZipLimits} (every field present). */
  ZIP_LIMITS: 'BUILD_ZIP_LIMITS',
  /** JSON of {@link BuildJobSettings} (every field present). */
  JOB_SETTINGS: 'BUILD_JOB_SETTINGS',
  /** JSON of {@link WebhookSettings} (every field present). */
  WEBHOOK_SETTINGS: 'BUILD_WEBHOOK_SETTINGS',
  /** The CodeBuild project of container builds, or {@link CONTAINER_BUILDS_DISABLED}. */
  CONTAINER_BUILD_PROJECT: 'CONTAINER_BUILD_PROJECT',
  /** The ECR repository URI container images are pushed to (tag = job id). */
  CONTAINER_REPOSITORY_URI: 'CONTAINER_REPOSITORY_URI',
} as const;

/** The value of CONTAINER_BUILD_PROJECT when the construct has no container builds. */
export const CONTAINER_BUILDS_DISABLED = 'disabled';

const B = BuildPipelineEnv;

/** One entry per Lambda handler: its bundle, its Powertools service name, the variables it reads. */
export const BuildPipelineHandlers = {
  /** POST /v1.0/builds: validates, creates the job, answers 202 with the presigned POST. */
  createBuild: {
    entry: 'build-pipeline/create-build',
    serviceName: 'build-pipeline-create',
    environment: [B.JOBS_TABLE_NAME, B.UPLOADS_BUCKET_NAME, B.ZIP_LIMITS, B.JOB_SETTINGS, B.CONTAINER_BUILD_PROJECT],
  },
  /** GET /v1.0/builds?functionName=, GET /v1.0/builds/{jobId}, GET /v1.0/builds/{jobId}/deliveries. */
  readBuilds: { entry: 'build-pipeline/read-builds', serviceName: 'build-pipeline-read', environment: [B.JOBS_TABLE_NAME, B.PAGE_TOKEN_SECRET_ARN] },
  /** SQS of S3 ObjectCreated notifications: queued → building → completed | failed (or hand-off to CodeBuild). */
  worker: {
    entry: 'build-pipeline/build-worker',
    serviceName: 'build-pipeline-worker',
    environment: [B.JOBS_TABLE_NAME, B.UPLOADS_BUCKET_NAME, B.ARTIFACTS_BUCKET_NAME, B.ZIP_LIMITS, B.JOB_SETTINGS, B.CONTAINER_BUILD_PROJECT],
  },
  /** Scheduled: fails jobs whose upload window passed (from the sparse AwaitingUploadIndex). */
  expireUploads: { entry: 'build-pipeline/expire-uploads', serviceName: 'build-pipeline-expire', environment: [B.JOBS_TABLE_NAME, B.JOB_SETTINGS] },
  /** The jobs table's stream: one event per status change, to the bus (a transactional outbox: the status write is the fact). */
  publishEvents: { entry: 'build-pipeline/publish-build-events', serviceName: 'build-pipeline-publisher', environment: [B.EVENT_BUS_NAME] },
  /** The webhook delivery queue (fed by a rule on the bus): signed, SSRF-guarded POSTs with backoff. */
  deliverWebhooks: {
    entry: 'build-pipeline/deliver-webhooks',
    serviceName: 'build-pipeline-webhooks',
    environment: [B.JOBS_TABLE_NAME, B.WEBHOOK_SECRET_ARN, B.WEBHOOK_SETTINGS],
  },
  /** Secrets Manager rotation of the webhook signing secret (the previous secret keeps signing for an overlap). */
  rotateWebhookSecret: { entry: 'build-pipeline/rotate-webhook-secret', serviceName: 'build-pipeline-rotation', environment: [B.WEBHOOK_SETTINGS] },
  /** CodeBuild "Build State Change" of the container project: completes or fails the job. */
  containerBuildFinished: {
    entry: 'build-pipeline/container-build-finished',
    serviceName: 'build-pipeline-container',
    environment: [B.JOBS_TABLE_NAME, B.CONTAINER_REPOSITORY_URI],
  },
} as const;

/**
 * Receives of one upload notification: the build queue's maxReceiveCount. On the last one
 * the worker fails the job for good (INTERNAL_ERROR) instead of leaving it `building`.
 */
export const BUILD_WORKER_MAX_RECEIVES = 5;

/**
 * The publisher's log message per published event, with a top-level `eventType`: the
 * construct's build metrics (completed, failed, failure rate) are metric filters on it.
 */
export const BUILD_EVENT_PUBLISHED_LOG_MESSAGE = 'Build event published';

/** Outbound webhook delivery settings; construct props with these defaults. */
export interface WebhookSettings {
  /** Attempts per event before the message goes to the delivery DLQ (the queue's maxReceiveCount). */
  readonly maxAttempts: number;
  /** First retry delay, ms (exponential, full jitter). */
  readonly baseDelayMs: number;
  /** Longest retry delay, ms (SQS visibility: at most 12 h). */
  readonly maxDelayMs: number;
  /** Time allowed per attempt, ms (connect + response). */
  readonly timeoutMs: number;
  /** `http://` receivers allowed (tests and private setups only; the address checks still apply). */
  readonly allowHttp: boolean;
  /** After a rotation the previous secret keeps signing (a second `v1,` signature) this long, seconds. */
  readonly rotationOverlapSeconds: number;
}

export const DEFAULT_WEBHOOK_SETTINGS: WebhookSettings = {
  maxAttempts: 8,
  baseDelayMs: 5_000,
  maxDelayMs: 3_600_000,
  timeoutMs: 10_000,
  allowHttp: false,
  rotationOverlapSeconds: 24 * 3600,
};

/**
 * The webhook signing secret's JSON value. `current` signs; `previous` also signs until
 * `previousUntil` (ISO time), so receivers can switch secrets without a failed delivery.
 * Values are Standard Webhooks secrets (`whsec_` + base64 of 32 random bytes).
 */
export interface WebhookSecretValue {
  readonly current: string;
  readonly previous?: string;
  readonly previousUntil?: string;
}

/** The envelope `source` of every build event, and the EventBridge `source` it is published under. */
export const BUILD_EVENT_SOURCE = 'cdk-event-services.build-pipeline';

/** The runtime of a container build (opt-in): the archive holds a `Dockerfile` at its root. */
export const CONTAINER_RUNTIME = 'container';

/**
 * Variables between the worker, the CodeBuild project and the state-change handler. The worker
 * starts the build with `JOB_ID` (and the artifact ZIP as the S3 source); the buildspec pushes
 * `{repositoryUri}:{jobId}` and exports `IMAGE_DIGEST`, which the "Build State Change" event carries
 * in `additional-information.exported-environment-variables`.
 */
export const ContainerBuildVariables = {
  JOB_ID: 'BUILD_JOB_ID',
  IMAGE_DIGEST: 'IMAGE_DIGEST',
} as const;

/** The lease owner of a job handed to CodeBuild. */
export const containerLeaseOwner = (buildId: string) => `codebuild:${buildId}`;

/** A completed build's deployment ZIP (and where its manifest and files are) in the artifacts bucket. */
export interface BuildArtifact {
  readonly bucket: string;
  readonly key: string;
  readonly manifestKey: string;
  /** Hex SHA-256 of the deployment ZIP. */
  readonly sha256: string;
  readonly size: number;
  readonly fileCount: number;
}

/** A container build's image: `{repositoryUri}:{jobId}` and its digest. */
export interface BuildImage {
  readonly uri: string;
  readonly digest?: string;
}

/**
 * The `payload` of every build event (the envelope's payload; the envelope is the EventBridge
 * `detail` and the webhook body). The event id is derived from (jobId, status), so a
 * re-published change keeps its id: receivers dedupe on it (`webhook-id`).
 */
export interface BuildEventPayload {
  readonly jobId: string;
  readonly functionName: string;
  readonly runtime: string;
  readonly handler: string;
  readonly status: BuildJobStatusValue;
  /** The job's version after this change (rises with every change: order webhooks by it). */
  readonly jobVersion: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** BuildCompleted of a ZIP build. */
  readonly artifact?: BuildArtifact;
  /** BuildCompleted of a container build. */
  readonly image?: BuildImage;
  /** BuildFailed. */
  readonly failureReason?: string;
  readonly failureMessage?: string;
}


/**
 * A job's webhook delivery log, in the jobs table next to the job: `PK = JOB#{jobId}`,
 * `SK = DELIVERY#{eventId}`, one item per event, its attempts appended (the last
 * {@link DELIVERY_LOG_MAX_ATTEMPTS} kept). A 410 sets `webhookDisabled` on the job item.
 */
export const DeliveryLogLayout = {
  sortKeyPrefix: 'DELIVERY#',
  sortKey: (eventId: string) => `DELIVERY#${eventId}`,
} as const;
export const DELIVERY_LOG_MAX_ATTEMPTS = 20;

/** One delivery attempt in a job's delivery log. */
export interface DeliveryAttempt {
  readonly at: string;
  /** 0 when no response came (timeout, refused connection, blocked). */
  readonly statusCode: number;
  readonly outcome: string;
  readonly durationMs: number;
  readonly error?: string;
}

/** One delivery item as GET /v1.0/builds/{jobId}/deliveries returns it. */
export interface DeliveryLogEntry {
  readonly eventId: string;
  readonly eventType: string;
  /** `delivered`, `retrying`, `gone` (410: delivery stopped), `rejected` (other 4xx), `blocked` (SSRF guard), `exhausted`. */
  readonly state: 'delivered' | 'retrying' | 'gone' | 'rejected' | 'blocked' | 'exhausted' | 'skipped';
  readonly attempts: ReadonlyArray<DeliveryAttempt>;
  readonly updatedAt: string;
}
