import { SFNClient } from '@aws-sdk/client-sfn';

// Created once per container; the endpoint comes from AWS_ENDPOINT_URL_SFN when set.
export const sfnClient = new SFNClient({});
