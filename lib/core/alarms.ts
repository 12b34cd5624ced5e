import { Duration } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** Thresholds of the alarms every function gets (defaults from the product plan). */
export interface FunctionAlarmThresholds {
  /** @default 5 (percent of invocations) */
  readonly errorRatePercent?: number;
  /** @default Duration.millis(300) */
  readonly p95Duration?: Duration;
}

/**
 * 100 * part / whole over 5 minutes. A quiet period (no invocations) has no data points,
 * so the expression has none either and `treatMissingData: NOT_BREACHING` reads it as OK;
 * MAX([part, whole]) only keeps the rate at or below 100 %.
 */
function percentOf(part: cloudwatch.IMetric, whole: cloudwatch.IMetric, label: string): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression: '100 * part / MAX([part, whole])',
    usingMetrics: { part, whole },
    label,
    period: Duration.minutes(5),
  });
}

/** Sends an alarm's ALARM and OK transitions to the topic. */
export function notify(alarm: cloudwatch.Alarm, topic: sns.ITopic): cloudwatch.Alarm {
  const action = new actions.SnsAction(topic);
  alarm.addAlarmAction(action);
  alarm.addOkAction(action);
  return alarm;
}

/** Error rate (errors / invocations) and p95 duration alarms for a function. */
export function addFunctionAlarms(
  scope: Construct,
  id: string,
  fn: lambda.IFunction,
  topic: sns.ITopic,
  thresholds: FunctionAlarmThresholds = {},
): cloudwatch.Alarm[] {
  const errorRate = percentOf(
    fn.metricErrors({ statistic: 'Sum', period: Duration.minutes(5) }),
    fn.metricInvocations({ statistic: 'Sum', period: Duration.minutes(5) }),
    'Error rate (%)',
  );
  const errorAlarm = errorRate.createAlarm(scope, `${id}ErrorRateAlarm`, {
    alarmDescription: `${fn.node.path}: error rate above ${thresholds.errorRatePercent ?? 5}%`,
    threshold: thresholds.errorRatePercent ?? 5,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  const p95 = thresholds.p95Duration ?? Duration.millis(300);
  const durationAlarm = fn
    .metricDuration({ statistic: 'p95', period: Duration.minutes(5) })
    .createAlarm(scope, `${id}P95DurationAlarm`, {
      alarmDescription: `${fn.node.path}: p95 duration above ${p95.toMilliseconds()} ms`,
      threshold: p95.toMilliseconds(),
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  return [notify(errorAlarm, topic), notify(durationAlarm, topic)];
}

/** Any message in a dead-letter queue is an incident: depth > 0. */
export function addDeadLetterQueueAlarm(scope: Construct, id: string, dlq: sqs.IQueue, topic: sns.ITopic): cloudwatch.Alarm {
  const alarm = dlq
    .metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(1) })
    .createAlarm(scope, `${id}DepthAlarm`, {
      alarmDescription: `${dlq.node.path}: messages in the dead-letter queue`,
      threshold: 0,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  return notify(alarm, topic);
}

/** A queue whose oldest message keeps ageing is a stalled consumer. */
export function addQueueAgeAlarm(
  scope: Construct,
  id: string,
  queue: sqs.IQueue,
  topic: sns.ITopic,
  maxAge: Duration,
): cloudwatch.Alarm {
  const alarm = queue
    .metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: Duration.minutes(1) })
    .createAlarm(scope, `${id}AgeAlarm`, {
      alarmDescription: `${queue.node.path}: oldest message older than ${maxAge.toSeconds()} s`,
      threshold: maxAge.toSeconds(),
      evaluationPeriods: 5,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  return notify(alarm, topic);
}

/** API 5xx rate (5xx / requests) above a percentage. */
export function addApi5xxAlarm(
  scope: Construct,
  id: string,
  api: apigw.RestApi,
  topic: sns.ITopic,
  thresholdPercent = 1,
): cloudwatch.Alarm {
  const rate = percentOf(
    api.metricServerError({ statistic: 'Sum', period: Duration.minutes(5) }),
    api.metricCount({ statistic: 'SampleCount', period: Duration.minutes(5) }),
    '5xx rate (%)',
  );
  const alarm = rate.createAlarm(scope, `${id}5xxRateAlarm`, {
    alarmDescription: `${api.node.path}: 5xx rate above ${thresholdPercent}%`,
    threshold: thresholdPercent,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  return notify(alarm, topic);
}
