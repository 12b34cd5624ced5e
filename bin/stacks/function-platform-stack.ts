import { Stack, StackProps } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { EnvironmentConfig, removalPolicyOf } from './environment-config';
import { BuildPipeline, LambdaRuntimeService } from '../../lib';

export interface FunctionPlatformStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  /** The environment's build pipeline: its BuildCompleted events are deployed. */
  readonly builds: BuildPipeline;
  /** The environment's alarm topic. */
  readonly alarmTopic: sns.ITopic;
}

/**
 * One environment's function platform, in a stack of its own: with the other four services it
 * would pass CloudFormation's 500 resources per stack, and the platform (which runs users' code)
 * deploys and rolls back on its own. Wired to the environment's BuildPipeline, so a ZIP
 * uploaded to the build API becomes an invocable function with no other step.
 */
export class FunctionPlatformStack extends Stack {
  public readonly functions: LambdaRuntimeService;

  constructor(scope: Construct, id: string, props: FunctionPlatformStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.functions = new LambdaRuntimeService(this, 'Functions', {
      functionPrefix: config.functionPrefix,
      builds: props.builds,
      alarmTopic: props.alarmTopic,
      removalPolicy: removalPolicyOf(config),
      logRetention: config.logRetentionDays as logs.RetentionDays | undefined,
    });
  }
}
