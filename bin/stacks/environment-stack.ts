import { Stack, StackProps } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { AlarmTopic, BuildPipeline, EnrollmentSaga, PaymentEvents, PaymentOutbox, ProductApi } from '../../lib';
import { EnvironmentConfig, removalPolicyOf } from './environment-config';

export interface EnvironmentStackProps extends StackProps {
  readonly config: EnvironmentConfig;
}

/** One environment (dev, sit, prod): the services, sharing one alarm topic. */
export class EnvironmentStack extends Stack {
  public readonly alarmTopic: sns.ITopic;
  public readonly products: ProductApi;
  public readonly payments: PaymentOutbox;
  public readonly enrollment: EnrollmentSaga;
  public readonly builds: BuildPipeline;

  constructor(scope: Construct, id: string, props: EnvironmentStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.alarmTopic = new AlarmTopic(this, 'Alarms').topic;
    if (config.alarmEmail) this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(config.alarmEmail));
    this.products = new ProductApi(this, 'Products', {
      alarmTopic: this.alarmTopic,
      removalPolicy: removalPolicyOf(config),
      throttle: config.throttle,
      logRetention: config.logRetentionDays as logs.RetentionDays | undefined,
    });
    this.payments = new PaymentOutbox(this, 'Payments', {
      alarmTopic: this.alarmTopic,
      removalPolicy: removalPolicyOf(config),
      logRetention: config.logRetentionDays as logs.RetentionDays | undefined,
    });
    // Enrollment starts from the outbox's own PaymentSucceeded events (studentId and courseId in the payment's metadata).
    this.enrollment = new EnrollmentSaga(this, 'Enrollment', {
      eventBus: this.payments.eventBus,
      triggerPattern: this.payments.eventPattern(PaymentEvents.SUCCEEDED),
      alarmTopic: this.alarmTopic,
      removalPolicy: removalPolicyOf(config),
      logRetention: config.logRetentionDays as logs.RetentionDays | undefined,
    });
    // Build jobs with their own bus (and its archive); container builds on, so every environment runs the CodeBuild path.
    this.builds = new BuildPipeline(this, 'Builds', {
      alarmTopic: this.alarmTopic,
      removalPolicy: removalPolicyOf(config),
      logRetention: config.logRetentionDays as logs.RetentionDays | undefined,
      containerBuilds: true,
    });
  }
}
