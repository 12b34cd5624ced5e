import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';

/**
 * The stream source's on-failure destination with only what sending needs
 * (`sqs:SendMessage`, and `kms:GenerateDataKey` + `kms:Decrypt` on the queue's key).
 * CDK's `SqsDlq` grants `grantSendMessages`, which adds `kms:Encrypt` and `kms:ReEncrypt*`
 * that SQS never asks a producer for.
 */
export class SendOnlyQueueDestination implements lambda.IEventSourceDlq {
  constructor(private readonly queue: sqs.IQueue, private readonly key: kms.IKey) {}

  public bind(_target: lambda.IEventSourceMapping, targetHandler: lambda.IFunction): lambda.DlqDestinationConfig {
    iam.Grant.addToPrincipal({ grantee: targetHandler, actions: ['sqs:SendMessage'], resourceArns: [this.queue.queueArn] });
    this.key.grant(targetHandler, 'kms:GenerateDataKey', 'kms:Decrypt');
    return { destination: this.queue.queueArn };
  }
}
