import { S3Client } from '@aws-sdk/client-s3';

// Created once per container; the endpoint comes from AWS_ENDPOINT_URL_S3 when set.
// Path-style only when asked (local engines without wildcard DNS); AWS uses virtual hosts.
export const s3Client = new S3Client({ forcePathStyle: process.env.S3_FORCE_PATH_STYLE === 'true' });
