import { CfnElement, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AUDIT_TABLE_SCHEMA, LIVE_ALIAS, PLATFORM_TAG_KEY, REGISTRY_TABLE_SCHEMA } from './contract';
import type { LambdaRuntimeService } from './lambda-runtime-service';
import type { IBuildSource } from './lambda-runtime-service-props';
import type { PlatformResources } from './platform-resources';
import { acknowledgeFindings, inBothRegulatoryPacks, nagArn, nagPseudoArn } from '../core';

export interface RuntimePermissionsProps {
  readonly key: kms.IKey;
  readonly platform: PlatformResources;
  readonly builds: IBuildSource;
  readonly pageTokenSecret: secretsmanager.ISecret;
  readonly callbackSecret: secretsmanager.ISecret;
  readonly canaryQueue: sqs.IQueue;
}

/** What the deployer does to a platform function besides creating and tagging it: change its code and settings, publish, move `live`. */
export const DEPLOYER_LAMBDA_ACTIONS = [
  'lambda:GetFunction', 'lambda:GetFunctionConfiguration', 'lambda:UpdateFunctionCode', 'lambda:UpdateFunctionConfiguration',
  'lambda:PublishVersion', 'lambda:GetAlias', 'lambda:CreateAlias', 'lambda:UpdateAlias', 'lambda:PutFunctionConcurrency',
  'lambda:GetFunctionEventInvokeConfig', 'lambda:PutFunctionEventInvokeConfig',
  // A function deleted from the registry during its deploy: what the deploy created is removed, not orphaned.
  'lambda:DeleteFunction',
];

/**
 * Each function gets the actions its code calls, on the resources it calls them on (the
 * construct test lists them per role). Every Lambda action is on `{prefix}-*` functions only;
 * the deployer may pass the platform execution role and no other, to Lambda only; a function
 * it creates must carry the platform tag. DynamoDB and Secrets Manager need `kms:Decrypt` from
 * the caller; sending to an encrypted queue needs `kms:GenerateDataKey`.
 */
export function grantRuntimeLeastPrivilege(service: LambdaRuntimeService, props: RuntimePermissionsProps): void {
  const { key, platform } = props;
  const allow = (grantee: iam.IGrantable, actions: string[], resourceArns: string[], conditions?: Record<string, Record<string, unknown>>) =>
    iam.Grant.addToPrincipal({ grantee, actions, resourceArns, conditions });
  const registry = service.table.tableArn;
  const audit = service.auditTable.tableArn;
  const registryIndexes = [REGISTRY_TABLE_SCHEMA.nameIndex, REGISTRY_TABLE_SCHEMA.createdIndex].map((i) => `${registry}/index/${i.indexName}`);
  const auditIndex = `${audit}/index/${AUDIT_TABLE_SCHEMA.functionIndex.indexName}`;
  const functions = platform.functionArnPattern;
  const prefix = service.functionPrefix;

  // registry API: conditional Put/Update of META items, GetItem, the listing indexes, the page-token key.
  allow(service.registryFunction, ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], [registry]);
  allow(service.registryFunction, ['dynamodb:Query'], registryIndexes);
  allow(service.registryFunction, ['secretsmanager:GetSecretValue'], [props.pageTokenSecret.secretArn]);
  key.grant(service.registryFunction, 'kms:Decrypt');
  // rollback: the registry's deployment swap, then `live` moves.
  allow(service.rollbackFunction, ['dynamodb:GetItem', 'dynamodb:UpdateItem'], [registry]);
  allow(service.rollbackFunction, ['lambda:UpdateAlias'], [functions]);
  key.grant(service.rollbackFunction, 'kms:Decrypt');
  // invoke: the function's META (cache misses), its RATE bucket, the audit item and the request pointer, Invoke of `live` only.
  allow(service.invokeFunction, ['dynamodb:GetItem', 'dynamodb:UpdateItem'], [registry]);
  allow(service.invokeFunction, ['dynamodb:PutItem', 'dynamodb:UpdateItem'], [audit]);
  allow(service.invokeFunction, ['lambda:InvokeFunction'], [`${functions}:${LIVE_ALIAS}`]);
  key.grant(service.invokeFunction, 'kms:Decrypt');
  // invocations: one by id, a function's by time range, the page-token key.
  allow(service.invocationsFunction, ['dynamodb:GetItem'], [audit]);
  allow(service.invocationsFunction, ['dynamodb:Query'], [auditIndex]);
  allow(service.invocationsFunction, ['secretsmanager:GetSecretValue'], [props.pageTokenSecret.secretArn]);
  key.grant(service.invocationsFunction, 'kms:Decrypt');
  // deployer: registers unknown names, records deployments; creates functions only with the platform tag;
  // passes the platform role only, to Lambda only; reads the artifacts (Lambda fetches the code as the caller).
  allow(service.deployFunction, ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], [registry]);
  // Creating or tagging a function must set the platform tag to this prefix (a function cannot be re-tagged into another platform).
  allow(service.deployFunction, ['lambda:CreateFunction', 'lambda:TagResource'], [functions], { StringEquals: { [`aws:RequestTag/${PLATFORM_TAG_KEY}`]: prefix } });
  allow(service.deployFunction, DEPLOYER_LAMBDA_ACTIONS, [functions]);
  allow(service.deployFunction, ['iam:PassRole'], [platform.executionRole.roleArn], { StringEquals: { 'iam:PassedToService': 'lambda.amazonaws.com' } });
  allow(service.deployFunction, ['sqs:SendMessage'], [props.canaryQueue.queueArn]);
  props.builds.grantReadArtifacts(service.deployFunction);
  key.grant(service.deployFunction, 'kms:Decrypt', 'kms:GenerateDataKey');
  // canary checks: the deployment state, the new version's audited calls, `live`'s weights, the next check.
  allow(service.canaryFunction, ['dynamodb:GetItem', 'dynamodb:UpdateItem'], [registry]);
  allow(service.canaryFunction, ['dynamodb:Query'], [auditIndex]);
  allow(service.canaryFunction, ['lambda:GetAlias', 'lambda:UpdateAlias'], [functions]);
  allow(service.canaryFunction, ['sqs:SendMessage'], [props.canaryQueue.queueArn]);
  key.grant(service.canaryFunction, 'kms:Decrypt', 'kms:GenerateDataKey');
  // sync: schedules of the platform's group, passing the Scheduler role to Scheduler only; the purge.
  const stack = Stack.of(service);
  const groupSchedules = `arn:${stack.partition}:scheduler:${stack.region}:${stack.account}:schedule/${prefix}/*`;
  allow(service.syncFunction, ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'], [registry]);
  allow(service.syncFunction, ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule', 'scheduler:GetSchedule'], [groupSchedules]);
  // ListSchedules has no resource type: it is the only action on `*`, and lists names (filtered by group and prefix).
  allow(service.syncFunction, ['scheduler:ListSchedules'], ['*']);
  allow(service.syncFunction, ['iam:PassRole'], [platform.schedulerRole.roleArn], { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } });
  allow(service.syncFunction, ['lambda:DeleteFunction'], [functions]);
  key.grant(service.syncFunction, 'kms:Decrypt');
  // results: the pointer and the audit item (or a new one for calls the platform did not start), the callback secret.
  allow(service.resultsFunction, ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], [audit]);
  allow(service.resultsFunction, ['secretsmanager:GetSecretValue'], [props.callbackSecret.secretArn]);
  key.grant(service.resultsFunction, 'kms:Decrypt');

  acknowledgeWildcards(service, platform, props.builds);
}

function acknowledgeWildcards(service: LambdaRuntimeService, platform: PlatformResources, builds: IBuildSource): void {
  const prefix = service.functionPrefix;
  const fnWildcard = `Resource::${nagPseudoArn(service, 'lambda', `function:${prefix}-*`)}`;
  const why = `Platform functions are created at run time from the registry, as ${prefix}-<name>: the prefix is the boundary ` +
    '(functions outside it cannot be touched), the registry decides which names exist.';
  for (const fn of [service.rollbackFunction, service.deployFunction, service.canaryFunction, service.syncFunction]) {
    acknowledgeFindings(fn, { [`AwsSolutions-IAM5[${fnWildcard}]`]: why });
  }
  const live = `${why} Only their live alias may be invoked.`;
  acknowledgeFindings(service.invokeFunction, { [`AwsSolutions-IAM5[${fnWildcard}:live]`]: live });
  acknowledgeFindings(platform.schedulerRole, {
    [`AwsSolutions-IAM5[${fnWildcard}:live]`]: `${live} Scheduler assumes this role for schedules of the platform's group only.`,
    ...inBothRegulatoryPacks('IAMNoInlinePolicy', 'CDK grants write the Scheduler role\'s two statements (invoke live aliases, send to ' +
      'the schedule DLQ) as its own policy; a managed policy would be a separate, attachable object that no other role should get.'),
  });
  const logGroups = `Resource::${nagPseudoArn(service, 'logs', `log-group:/aws/lambda/${prefix}-*`)}`;
  acknowledgeFindings(platform.permissionsBoundary, {
    [`AwsSolutions-IAM5[${logGroups}]`]: `Each platform function writes its own log group, /aws/lambda/${prefix}-<name>; no other log group.`,
    [`AwsSolutions-IAM5[${logGroups}:*]`]: `The log streams of the platform functions' own log groups (/aws/lambda/${prefix}-<name>).`,
  });
  acknowledgeFindings(service.syncFunction, {
    [`AwsSolutions-IAM5[Resource::${nagPseudoArn(service, 'scheduler', `schedule/${prefix}/*`)}]`]:
      'Schedules are created at run time from the registry, in the platform\'s own group only.',
  });
  const artifactsWhy = 'Lambda reads a build\'s deployment ZIP with the deployer\'s permissions; builds are named by the ' +
    'BuildCompleted events, under builds/ of the artifacts bucket.';
  const artifacts = builds.artifactsBucket.node.defaultChild instanceof CfnElement ? nagArn(builds.artifactsBucket) : undefined;
  if (artifacts) acknowledgeFindings(service.deployFunction, { [`AwsSolutions-IAM5[Resource::${artifacts}/builds/*]`]: artifactsWhy });
  if (Stack.of(builds.artifactsBucket) !== Stack.of(service)) {
    // A bucket of another stack: synthesis turns the reference into an import before cdk-nag runs, and
    // the finding names the import. Its export name exists only once references are resolved, so the
    // acknowledgement is made then (validation runs after reference resolution, before the nag plugin).
    let acknowledged = false;
    service.deployFunction.node.addValidation({
      validate: () => {
        const imported = /"Fn::ImportValue":"([^"]+)"/.exec(JSON.stringify(Stack.of(service).resolve(builds.artifactsBucket.bucketArn)));
        if (imported && !acknowledged) {
          acknowledged = true;
          acknowledgeFindings(service.deployFunction, { [`AwsSolutions-IAM5[Resource::${imported[1]}/builds/*]`]: artifactsWhy });
        }
        return [];
      },
    });
  }
}
