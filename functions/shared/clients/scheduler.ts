import { SchedulerClient } from '@aws-sdk/client-scheduler';

// Created once per container; the endpoint comes from AWS_ENDPOINT_URL_SCHEDULER when set.
export const schedulerClient = new SchedulerClient({});
