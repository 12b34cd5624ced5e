import { CfnElement, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ArtifactLayout, ContainerBuildVariables, JOB_ID_PATTERN } from './contract';
import { createLogGroup } from '../core/encryption';
import { acknowledgeFindings, inBothRegulatoryPacks, nagArn } from '../core/nag';

export interface ContainerBuildsProps {
  readonly artifactsBucket: s3.IBucket;
  readonly key: kms.IKey;
  readonly timeout: Duration;
  readonly computeType: codebuild.ComputeType;
  readonly maxImageCount: number;
  readonly removalPolicy: RemovalPolicy;
  readonly logRetention: logs.RetentionDays;
  readonly logEncryptionKey?: kms.IKey;
}

/** The terminal CodeBuild build statuses the state-change rule matches. */
export const FINISHED_BUILD_STATUSES = ['SUCCEEDED', 'FAILED', 'FAULT', 'STOPPED', 'TIMED_OUT'];

/**
 * Container builds (opt-in): the worker starts a build of this project with the job's
 * deployment ZIP (a Dockerfile at its root) as the S3 source; the buildspec builds it,
 * pushes `{repositoryUri}:{jobId}` to the construct's repository and exports the pushed
 * digest, which CodeBuild's "Build State Change" event carries to the state-change handler.
 */
export class ContainerBuilds extends Construct {
  public readonly repository: ecr.Repository;
  public readonly project: codebuild.Project;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ContainerBuildsProps) {
    super(scope, id);
    this.repository = new ecr.Repository(this, 'Repository', {
      imageScanOnPush: true,
      // A job id tags one image for good: a deployment names exactly the image its build made.
      imageTagMutability: ecr.TagMutability.IMMUTABLE,
      encryption: ecr.RepositoryEncryption.KMS,
      encryptionKey: props.key,
      lifecycleRules: [{ description: 'Keep the newest images only', maxImageCount: props.maxImageCount }],
      removalPolicy: props.removalPolicy,
      emptyOnDelete: props.removalPolicy === RemovalPolicy.DESTROY,
    });
    this.logGroup = createLogGroup(this, 'LogGroup', { retention: props.logRetention, encryptionKey: props.logEncryptionKey });
    const { JOB_ID, IMAGE_DIGEST } = ContainerBuildVariables;
    const jobIdPattern = JOB_ID_PATTERN.source;
    this.project = new codebuild.Project(this, 'Project', {
      description: `${this.node.path}: container images of build jobs`,
      environment: {
        buildImage: codebuild.LinuxBuildImage.STANDARD_7_0,
        computeType: props.computeType,
        privileged: true, // docker build needs the Docker daemon
      },
      environmentVariables: {
        REPOSITORY_URI: { value: this.repository.repositoryUri },
        [JOB_ID]: { value: 'set-by-the-worker' },
      },
      encryptionKey: props.key,
      timeout: props.timeout,
      queuedTimeout: Duration.hours(1),
      logging: { cloudWatch: { logGroup: this.logGroup } },
      buildSpec: codebuild.BuildSpec.fromObject({
        version: '0.2',
        env: { 'shell': 'bash', 'exported-variables': [IMAGE_DIGEST] },
        phases: {
          pre_build: {
            commands: [
              `[[ "$${JOB_ID}" =~ ${jobIdPattern} ]] || { echo "not a job id: $${JOB_ID}"; exit 1; }`,
              'test -f Dockerfile || { echo "the archive has no Dockerfile at its root"; exit 1; }',
              'aws ecr get-login-password --region "$AWS_REGION" | docker login --username AWS --password-stdin "${REPOSITORY_URI%%/*}"',
            ],
          },
          build: {
            commands: [
              `docker build --pull -t "$REPOSITORY_URI:$${JOB_ID}" .`,
              `docker push "$REPOSITORY_URI:$${JOB_ID}"`,
              `export ${IMAGE_DIGEST}="$(docker inspect --format='{{index .RepoDigests 0}}' "$REPOSITORY_URI:$${JOB_ID}" | cut -d@ -f2)"`,
              `test -n "$${IMAGE_DIGEST}"`,
            ],
          },
        },
      }),
    });
    // The source is the deployment ZIP of the job (the worker overrides the source location).
    this.project.addToRolePolicy(new iam.PolicyStatement({
      actions: ['s3:GetObject', 's3:GetObjectVersion'],
      resources: [props.artifactsBucket.arnForObjects(`${ArtifactLayout.ROOT}/*`)],
    }));
    this.repository.grantPush(this.project);
    const stack = Stack.of(this);
    // As cdk-nag writes them: an environment-agnostic stack's region and account are pseudo parameters.
    const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
    const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
    const projectRef = `<${stack.resolve((this.project.node.defaultChild as CfnElement).logicalId)}>`;
    acknowledgeFindings(this.project, {
      'AwsSolutions-IAM5[Resource::*]': 'ecr:GetAuthorizationToken has no resource-level permissions (AWS documents `*`).',
      [`AwsSolutions-IAM5[Resource::${nagArn(props.artifactsBucket)}/builds/*]`]:
        'A build reads the deployment ZIP of the job it was started for, under builds/<jobId>/: the grant is GetObject on that prefix.',
      [`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:${region}:${account}:log-group:/aws/codebuild/${projectRef}:*]`]:
        'CDK grants every project its default /aws/codebuild/<project> log group and streams; this project logs to its own group.',
      [`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:codebuild:${region}:${account}:report-group/${projectRef}-*]`]:
        'CDK grants every project the report groups named after it (<project>-*); this buildspec creates no reports.',
      'AwsSolutions-IAM5[Action::kms:ReEncrypt*]': 'CDK grants a project\'s encryption key for build output with this action set; the ' +
        'project writes no artifacts (the image goes to ECR), and the key is this construct\'s own.',
      'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]': 'CDK grants a project\'s encryption key for build output with this action set; ' +
        'the project writes no artifacts (the image goes to ECR), and the key is this construct\'s own.',
      'PCI.DSS.321-CodeBuildProjectSourceRepoUrl': 'The project has no source repository, so no URL or credential to leak: the worker ' +
        'sets each build\'s source to the job\'s deployment ZIP in the artifacts bucket (S3) at StartBuild.',
      ...inBothRegulatoryPacks('IAMNoInlinePolicy', 'CDK writes the project role\'s least-privilege statements (read build archives, push ' +
        'to this repository, its own logs and reports) as the role\'s own policy; a managed policy would be a separate, attachable object.'),
    });
  }
}
