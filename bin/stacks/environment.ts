import { StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { EnvironmentConfig } from './environment-config';
import { EnvironmentStack } from './environment-stack';
import { FunctionPlatformStack } from './function-platform-stack';

/** The stacks of one environment. */
export interface Environment {
  /** `cdk-event-services-{name}`: ProductApi, PaymentOutbox, EnrollmentSaga, BuildPipeline and the alarm topic. */
  readonly services: EnvironmentStack;
  /** `cdk-event-services-{name}-functions`: the LambdaRuntimeService, deploying the services stack's builds. */
  readonly functions: FunctionPlatformStack;
}

/** Both stacks of environment `name` (the functions stack depends on the services stack through its references). */
export function createEnvironment(scope: Construct, name: string, config: EnvironmentConfig, stackProps: StackProps = {}): Environment {
  const services = new EnvironmentStack(scope, `cdk-event-services-${name}`, { ...stackProps, config });
  const functions = new FunctionPlatformStack(scope, `cdk-event-services-${name}-functions`, {
    ...stackProps,
    config,
    builds: services.builds,
    alarmTopic: services.alarmTopic,
  });
  // Explicit, not only through references: the platform deploys after the services it reads.
  functions.addStackDependency(services);
  return { services, functions };
}
