import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';

/** A destination record handed to SQS or SNS on fauxqs (others are recorded, not delivered). */
export interface DestinationDelivery {
  readonly destination: string;
  readonly record: Record<string, unknown>;
  readonly delivered: boolean;
  readonly error?: string;
}

/**
 * Delivers asynchronous-invocation records where Lambda would: an SQS queue or SNS topic
 * named by ARN, on the local engine (fauxqs serves both on the S3 endpoint). EventBridge and
 * Lambda destinations have no local engine here; their records are kept for the test to read.
 */
export class Destinations {
  readonly deliveries: DestinationDelivery[] = [];
  private readonly sqs: SQSClient;
  private readonly sns: SNSClient;

  constructor(endpoint: string, region: string) {
    const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
    // fauxqs hands out queue URLs on hosts of its own; send to the endpoint instead.
    this.sqs = new SQSClient({ region, endpoint, credentials, useQueueUrlAsEndpoint: false });
    this.sns = new SNSClient({ region, endpoint, credentials });
  }

  async deliver(destination: string, record: Record<string, unknown>): Promise<void> {
    const service = destination.split(':')[2];
    try {
      if (service === 'sqs') {
        const { QueueUrl } = await this.sqs.send(new GetQueueUrlCommand({ QueueName: destination.split(':')[5] }));
        await this.sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify(record) }));
      } else if (service === 'sns') {
        await this.sns.send(new PublishCommand({ TopicArn: destination, Message: JSON.stringify(record) }));
      } else {
        this.deliveries.push({ destination, record, delivered: false, error: `no local delivery to ${service}` });
        return;
      }
      this.deliveries.push({ destination, record, delivered: true });
    } catch (error) {
      this.deliveries.push({ destination, record, delivered: false, error: String(error) });
    }
  }

  close(): void {
    this.sqs.destroy();
    this.sns.destroy();
  }
}
