import { SNSClient } from '@aws-sdk/client-sns';

// Created once per container; the endpoint comes from AWS_ENDPOINT_URL_SNS when set.
export const snsClient = new SNSClient({});
