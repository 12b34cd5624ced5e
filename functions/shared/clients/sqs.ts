import { SQSClient } from '@aws-sdk/client-sqs';

// Created once per container; the endpoint comes from AWS_ENDPOINT_URL_SQS when set. A
// queue URL is sent to the region's SQS endpoint (the same host in AWS; local engines
// hand out URLs on hosts of their own, so the URL's host must not be dialled).
export const sqsClient = new SQSClient({ useQueueUrlAsEndpoint: false });
