import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context, DynamoDBBatchResponse, DynamoDBStreamEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import {
  BUILD_JOBS_TABLE_SCHEMA as S, BuildEvents, BuildPipelineEnv as E, CONTAINER_BUILDS_DISABLED, DEFAULT_BUILD_JOB_SETTINGS, DEFAULT_ZIP_LIMITS,
  UploadLayout,
} from '../../lib/build-pipeline/contract';
import { s3ObjectCreatedNotification } from '../build-pipeline/s3-notification';
import { loadHandler, shippedBundle } from '../harness/bundle-handler';
import { readStream } from '../harness/dynamodb-stream';
import { apiEvent, configureHandlerEnv, createBucket, endpoints, fakeContext, sqsRecord, uniqueName, type LocalClients } from '../harness/local-aws';
import { startLocalEventBridge } from '../harness/local-eventbridge';
import { createLocalTable } from '../harness/local-table';

type HttpFn = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
type SqsFn = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
type StreamFn = (event: DynamoDBStreamEvent, context: Context) => Promise<DynamoDBBatchResponse>;

function load<T>(entry: string, env: Record<string, string>): T {
  configureHandlerEnv(env);
  let fn!: T;
  jest.isolateModules(() => { fn = loadHandler<T>(shippedBundle(entry)); });
  return fn;
}

/**
 * BuildPipeline's shipped bundles on the local engines, as build-pipeline-flow.test.ts runs them,
 * reduced to what makes a deployment: POST /v1.0/builds → the upload (a plain PutObject: the POST
 * policy is that test's subject) → the worker → the jobs table's stream → the event publisher. The
 * BuildCompleted envelope is the `detail` the publisher put on the bus, exactly what the deploy
 * consumer receives; the deployment ZIP is the worker's.
 */
export async function startBuildPipeline(clients: LocalClients) {
  const tableName = uniqueName('deploy-builds');
  const uploads = uniqueName('deploy-uploads');
  const artifacts = uniqueName('deploy-artifacts');
  const table = await createLocalTable(clients.ddb, tableName, {
    partitionKey: S.partitionKey,
    sortKey: S.sortKey,
    indexes: [S.functionIndex, S.awaitingUploadIndex],
    streamViewType: 'NEW_AND_OLD_IMAGES',
    timeToLiveAttribute: S.timeToLiveAttribute,
  });
  await Promise.all([createBucket(clients.s3, uploads), createBucket(clients.s3, artifacts)]);
  const bus = await startLocalEventBridge();
  const common = {
    [E.JOBS_TABLE_NAME]: tableName,
    [E.UPLOADS_BUCKET_NAME]: uploads,
    [E.ZIP_LIMITS]: JSON.stringify(DEFAULT_ZIP_LIMITS),
    [E.JOB_SETTINGS]: JSON.stringify(DEFAULT_BUILD_JOB_SETTINGS),
    [E.CONTAINER_BUILD_PROJECT]: CONTAINER_BUILDS_DISABLED,
  };
  const createFn = load<HttpFn>('functions/build-pipeline/create-build.ts', common);
  const worker = load<SqsFn>('functions/build-pipeline/build-worker.ts', { ...common, [E.ARTIFACTS_BUCKET_NAME]: artifacts });
  const publisher = load<StreamFn>('functions/build-pipeline/publish-build-events.ts', { [E.EVENT_BUS_NAME]: 'builds', AWS_ENDPOINT_URL_EVENTBRIDGE: bus.endpoint });
  let streamSeen = 0;

  /** Builds `zip` for `functionName`; the BuildCompleted envelope the bus carried. */
  async function build(functionName: string, zip: Buffer): Promise<any> {
    return (await buildForQueue(functionName, zip)).envelope;
  }

  /**
   * Builds `zip` for `functionName`; the BuildCompleted envelope, and the SQS message body an
   * EventBridge rule with the queue as target delivers: the whole EventBridge event, the envelope
   * its `detail`, built from the entry the publisher put on the bus.
   */
  async function buildForQueue(functionName: string, zip: Buffer): Promise<{ envelope: any; body: string }> {
    const created = await createFn(
      { ...apiEvent({ method: 'POST', body: { functionName, runtime: 'nodejs24.x' } }), resource: '/v1.0/builds', path: '/v1.0/builds' },
      fakeContext('create-build'),
    );
    if (created.statusCode !== 202) throw new Error(`create-build answered ${created.statusCode}: ${created.body}`);
    const { jobId } = JSON.parse(created.body);
    await clients.s3.send(new PutObjectCommand({ Bucket: uploads, Key: UploadLayout.key(jobId), Body: zip }));
    const body = s3ObjectCreatedNotification(uploads, UploadLayout.key(jobId), zip.length, 'ObjectCreated:Put');
    const result = await worker({ Records: [sqsRecord(body)] }, fakeContext('build-worker'));
    if (result.batchItemFailures.length) throw new Error(`the worker failed the build: ${JSON.stringify(result)}`);
    const records = (await readStream(table.LatestStreamArn!)).slice(streamSeen);
    streamSeen += records.length;
    const before = bus.accepted.length;
    await publisher({ Records: records }, fakeContext('build-publisher'));
    const entry = bus.accepted.slice(before)
      .find((e) => { const d = JSON.parse(e.Detail!); return d.eventType === BuildEvents.COMPLETED && d.payload.jobId === jobId; });
    if (!entry) throw new Error(`no BuildCompleted for job ${jobId}`);
    const envelope = JSON.parse(entry.Detail!);
    const event = {
      'version': '0',
      'id': entry.EventId,
      'detail-type': entry.DetailType,
      'source': entry.Source,
      'account': '000000000000',
      'time': new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      'region': 'us-east-1',
      'resources': [],
      'detail': envelope,
    };
    return { envelope, body: JSON.stringify(event) };
  }

  return { build, buildForQueue, artifacts, stop: () => bus.stop() };
}

/**
 * The messages of a fauxqs queue still waiting out their DelaySeconds (fauxqs's read-only
 * inspection endpoint: nothing is received, so visibility and receive counts stay untouched),
 * with the delay each was sent with.
 */
export async function delayedMessages(queueName: string): Promise<Array<{ messageId: string; body: string; delaySeconds: number }>> {
  const response = await fetch(`${endpoints().fauxqs}/_fauxqs/queues/${encodeURIComponent(queueName)}`);
  if (!response.ok) throw new Error(`fauxqs inspection of ${queueName}: ${response.status}`);
  type Delayed = { messageId: string; body: string; sentTimestamp: number; delayUntil: number };
  const state = await response.json() as { messages: { delayed: Delayed[] } };
  return state.messages.delayed.map((m) => ({
    messageId: m.messageId, body: m.body, delaySeconds: Math.round((m.delayUntil - m.sentTimestamp) / 1000),
  }));
}
