import { CreateAliasCommand, CreateFunctionCommand, PublishVersionCommand, PutFunctionEventInvokeConfigCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { yazlZip } from '../../build-pipeline/zip-corpus';

const ROLE = 'arn:aws:iam::000000000000:role/platform-function';

export interface PlatformFunctionOptions {
  readonly lambda: LambdaClient;
  readonly s3: S3Client;
  readonly bucket: string;
  /** The AWS function name (`{prefix}-{name}`). */
  readonly functionName: string;
  /** `index.js` of the ZIP (a nodejs handler exporting `handler`). */
  readonly source: string;
  readonly timeoutSeconds?: number;
  /** Async destinations on the `live` alias, as the deploy path sets them (ARNs of SQS queues or SNS topics). */
  readonly onSuccess?: string;
  readonly onFailure?: string;
  /** Lambda's retries of a failed Event invocation (0–2). @default 0 */
  readonly maximumRetryAttempts?: number;
}

/**
 * A platform function as a deploy leaves it on the local Lambda endpoint: the ZIP in S3,
 * CreateFunction, PublishVersion, the `live` alias on it and, when given, the alias's
 * EventInvokeConfig with its OnSuccess / OnFailure destinations (delivered to fauxqs).
 */
export async function deployPlatformFunction(options: PlatformFunctionOptions): Promise<{ version: string }> {
  const { lambda, functionName: FunctionName } = options;
  const key = `${FunctionName}/${Date.now()}.zip`;
  await options.s3.send(new PutObjectCommand({ Bucket: options.bucket, Key: key, Body: await yazlZip([{ name: 'index.js', data: options.source }]) }));
  await lambda.send(new CreateFunctionCommand({
    FunctionName,
    Runtime: 'nodejs24.x',
    Role: ROLE,
    Handler: 'index.handler',
    Code: { S3Bucket: options.bucket, S3Key: key },
    Timeout: options.timeoutSeconds ?? 10,
  }));
  const { Version } = await lambda.send(new PublishVersionCommand({ FunctionName }));
  await lambda.send(new CreateAliasCommand({ FunctionName, Name: 'live', FunctionVersion: Version }));
  if (options.onSuccess || options.onFailure) {
    await lambda.send(new PutFunctionEventInvokeConfigCommand({
      FunctionName,
      Qualifier: 'live',
      MaximumRetryAttempts: options.maximumRetryAttempts ?? 0,
      DestinationConfig: {
        ...(options.onSuccess ? { OnSuccess: { Destination: options.onSuccess } } : {}),
        ...(options.onFailure ? { OnFailure: { Destination: options.onFailure } } : {}),
      },
    }));
  }
  return { version: Version! };
}
