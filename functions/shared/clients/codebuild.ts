import { CodeBuildClient } from '@aws-sdk/client-codebuild';

// Created once per container; the endpoint comes from AWS_ENDPOINT_URL_CODEBUILD when set.
export const codeBuildClient = new CodeBuildClient({});
