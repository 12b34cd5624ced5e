import { LambdaClient } from '@aws-sdk/client-lambda';

// Created once per container; the endpoint comes from AWS_ENDPOINT_URL_LAMBDA when set.
export const lambdaClient = new LambdaClient({});
