import { javascript, TextFile, typescript } from 'projen';
import { PROJEN_MARKER } from 'projen/lib/common';

// Runtime libraries of the Lambda handlers. They are bundled into assets/ when the
// library is built (projenrc/bundle-handlers.ts), so the published package needs none of
// them: devDependencies, and the package's `dependencies` stay empty (peers only).
// Powertools packages share one version so a bundle holds one copy of their commons.
const POWERTOOLS_VERSION = '2.35.0';
const handlerDeps = [
  '@aws-sdk/client-dynamodb@3.1169.0',
  '@aws-sdk/lib-dynamodb@3.1168.0',
  // unmarshall() for DynamoDB stream images (lib-dynamodb's own dependency, same version).
  '@aws-sdk/util-dynamodb@3.996.9',
  '@aws-sdk/client-sqs@3.1175.0',
  '@aws-sdk/client-sns@3.1169.0',
  '@aws-sdk/client-s3@3.1175.0',
  '@aws-sdk/client-eventbridge@3.1169.0',
  '@aws-sdk/client-secrets-manager@3.1164.0',
  '@aws-sdk/client-sfn@3.1164.0',
  // BuildPipeline's container builds: the worker starts the CodeBuild project (StartBuild only).
  '@aws-sdk/client-codebuild@3.1142.0',
  // LambdaRuntimeService: deploys and invokes platform functions, and keeps their schedules.
  '@aws-sdk/client-lambda@3.1162.0',
  '@aws-sdk/client-scheduler@3.1169.0',
  '@middy/core@7.9.2',
  '@middy/sqs-partial-batch-failure@6.4.5',
  `@aws-lambda-powertools/logger@${POWERTOOLS_VERSION}`,
  `@aws-lambda-powertools/idempotency@${POWERTOOLS_VERSION}`,
  // Cached Secrets Manager reads (TTL, JSON transform): the webhook fetches its signing
  // secrets at most once per cache period, not once per request.
  `@aws-lambda-powertools/parameters@${POWERTOOLS_VERSION}`,
  // zod/mini: schema validation at ~26 KB bundled (the full zod costs ~470 KB, +35 ms init).
  'zod@4.6.7',
  // Builds the handler bundles at compile; exactly pinned so the same sources give the same bytes.
  'esbuild@0.28.2',
  // BuildPipeline: a streaming ZIP reader (entries inflated one at a time, sizes counted
  // while inflating) rather than a ZIP parser of our own.
  'yauzl@3.4.0',
  // Presigned S3 POST whose policy enforces the upload's size (content-length-range), key and type.
  '@aws-sdk/s3-presigned-post@3.1164.0',
  // Address classification (loopback, private, link-local, CGNAT, IPv6 local ranges) for
  // the SSRF guard of outbound webhooks, checked on the address actually connected to.
  'ipaddr.js@2.5.0',
  // LambdaRuntimeService: per-function metrics as CloudWatch EMF log lines (no PutMetricData call
  // on the invoke path), the "Powertools metrics".
  `@aws-lambda-powertools/metrics@${POWERTOOLS_VERSION}`,
  // LambdaRuntimeService's JWT authorizer: JWS verification, JWKS fetch/cache and claim checks
  // (iss, aud, exp, nbf, alg allow-list) from a maintained, dependency-free library rather than
  // security-sensitive code of our own.
  'jose@6.2.18',
];

const project = new typescript.TypeScriptProject({
  name: 'cdk-event-services',
  description:
    'Five production-grade, event-driven services as AWS CDK v2 L3 constructs: ProductApi, PaymentOutbox, EnrollmentSaga, BuildPipeline, LambdaRuntimeService.',
  license: 'Apache-2.0',
  authorName: 'cdk-event-services developers',
  repository: 'https://github.com/cdk-event-services/cdk-event-services.git',
  keywords: ['aws-cdk', 'cdk', 'construct', 'lambda', 'event-driven', 'serverless'],
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  sampleCode: false,

  srcdir: 'lib',
  libdir: 'dist',
  testdir: 'test',
  entrypoint: 'dist/index.js',
  entrypointTypes: 'dist/index.d.ts',
  // dist/ is the compiled library; keep projen's packaging artifacts away from it.
  artifactsDirectory: 'dist-artifacts',

  typescriptVersion: '~5.9.3',
  // What a consumer's CDK app needs (aws-cdk-lib's own floor); the handlers run on Lambda's
  // Node.js 24 and the tests need >= 22.5 (the `node` devDependency provides 24).
  minNodeVersion: '20.0.0',

  peerDeps: ['aws-cdk-lib@^2.276.0', 'constructs@^10.5.1'],
  peerDependencyOptions: { pinnedDevDependency: false },
  devDeps: [
    ...handlerDeps,
    'aws-cdk-lib@2.276.0',
    'constructs@10.8.1',
    'aws-cdk@^2.1148.1',
    'cdk-nag@3.0.2',
    'tsx@^4.23.0',
    'ts-jest@^29.4.15',
    '@types/aws-lambda@^8.10.160',
    // Node 24 (the Lambda runtime) first on PATH for every npm script.
    'node@^24',
    // Local engines for handler tests: DynamoDB Local's jar, and SQS/SNS/S3.
    'amplify-dynamodb-simulator@2.9.30',
    'fauxqs@2.4.1',
    // Reads DynamoDB Local's stream in the outbox tests, as Lambda's poller would.
    '@aws-sdk/client-dynamodb-streams@3.1141.0',
    // Executes synthesized Step Functions definitions (ASL) in Node for the saga tests.
    'aws-local-stepfunctions@3.0.0',
    // Test corpora for the ZIP safety checks (zip bombs, traversal, symlinks), written in the tests.
    'yazl@3.3.1',
    '@types/yauzl@3.4.0',
    '@types/yazl@3.3.1',
    // The Standard Webhooks reference verifier: the tests check our signatures with it.
    'standardwebhooks@1.1.1',
    // API.md from the doc comments (the library is not jsii, so no jsii-docgen).
    'typedoc@0.28.20',
    'typedoc-plugin-markdown@4.14.1',
  ],

  // functions/ may import devDependencies: the handlers' libraries are bundled into
  // assets/ at compile. lib/ may not: it is what a consumer's app loads, with nothing but
  // the peer dependencies installed.
  eslintOptions: { dirs: ['lib', 'functions'], devdirs: ['test', 'projenrc', '.projenrc.ts', 'functions'] },

  jest: true,
  jestOptions: {
    jestVersion: '^29',
    // Snapshots are assertions: never rewrite them during a test run.
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    passWithNoTests: false,
    configFilePath: 'jest.config.js',
    jestConfig: {
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      // Coverage instrumentation slows the emulator-backed suite; `npx jest --coverage` on demand.
      collectCoverage: false,
      testPathIgnorePatterns: ['/node_modules/', '/dist/', '/cdk.out/'],
      globalSetup: '<rootDir>/test/harness/global-setup.ts',
      globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
      testTimeout: 60_000,
      maxWorkers: 2,
    },
  },
  tsconfig: {
    include: ['lib/**/*.ts'],
    compilerOptions: {
      lib: ['es2022'],
      target: 'ES2022',
      skipLibCheck: true,
    },
  },
  tsconfigDev: {
    include: ['lib/**/*.ts', 'functions/**/*.ts', 'test/**/*.ts', 'bin/**/*.ts', '.projenrc.ts'],
    compilerOptions: {
      lib: ['es2022'],
      target: 'ES2022',
      skipLibCheck: true,
      // ts-jest transpiles file by file: a cold test run drops from ~12 s to ~4 s.
      isolatedModules: true,
    },
  },

  github: true,
  release: true,
  buildWorkflow: true,
  gitignore: ['cdk.out/', '.tmp/', 'dist-artifacts/', '*.tgz', 'test/bench/.out/', 'assets/'],
});

// The published package is a whitelist: the compiled library and the pre-built handler
// bundles; the handler sources and contracts too, for users who bundle from source
// (context `cdk-event-services:bundleFromSource`); never bin/ or test/.
project.addFields({
  files: ['dist', 'assets/bundles', 'assets/with-source-maps', 'functions', 'lib/*/contract.ts', 'API.md', 'README.md', 'LICENSE'],
});

// Handlers are bundled once, when the library is built: compile (and so build and
// release) writes assets/, and `npm pack` of a fresh clone compiles first.
const bundleTask = project.addTask('bundle:handlers', {
  description: 'Bundle every Lambda handler into assets/ (what the package ships and the tests load)',
  exec: 'tsx projenrc/bundle-handlers.ts',
});
project.compileTask.prependSpawn(bundleTask);
project.package.setScript('prepack', 'npx projen compile && npx projen post-compile');
// API.md: the reference of the public API (lib/index.ts), from the doc comments.
project.postCompileTask.exec('typedoc --options typedoc.json --logLevel Error && cp .tmp/api/README.md API.md');

// npm ci failed on a lockfile missing optional @unrs/resolver-binding-* packages (from
// eslint's import resolver); pinning unrs-resolver makes the lockfile complete.
project.package.addField('overrides', { 'unrs-resolver': '1.11.1' });

// projen writes JSON into jest.config.js; jest needs a CommonJS module there.
// (PROJEN_MARKER, not a literal: projen deletes every file that holds its marker.)
project.tryRemoveFile('jest.config.js');
new TextFile(project, 'jest.config.js', {
  lines: [`// ${PROJEN_MARKER}`, `module.exports = ${JSON.stringify(project.jest!.config, null, 2)};`],
});

// The handlers are bundled by esbuild, never compiled by tsc, and test/tsconfig.json only reaches
// the files tests import: type-check every handler source as part of the test task.
project.testTask.exec('tsc --noEmit -p functions/tsconfig.json');

const synthDev = project.addTask('synth:dev', {
  description: "Synthesize the example app's dev stacks (offline: no AWS credentials, no Docker)",
});
synthDev.exec('tsx projenrc/bundle-handlers.ts --only-outdated');
synthDev.exec('cdk synth -c env=dev --quiet');
project.addTask('bench', {
  description: 'Bundle size, init time, synth time and AWS calls per operation',
  exec: 'tsx test/bench/run.ts',
});

project.synth();
