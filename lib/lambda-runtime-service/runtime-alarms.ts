import { Duration, Names } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { INVOCATION_LOG_MESSAGE, InvocationStatus, LAMBDA_RUNTIME_METRICS_NAMESPACE, LambdaRuntimeMetrics } from './contract';
import type { resolveRuntimeAlarmThresholds } from './runtime-settings';
import { addApi5xxAlarm, addDeadLetterQueueAlarm, addFunctionAlarms, notify, type ReliableQueue } from '../core';

export interface RuntimeAlarmsProps {
  readonly thresholds: ReturnType<typeof resolveRuntimeAlarmThresholds>;
  readonly topic: sns.ITopic;
  /** The service's own functions. */
  readonly functions: lambda.Function[];
  readonly invokeFunction: lambda.Function;
  readonly syncFunction: lambda.Function;
  readonly api: apigw.RestApi;
  readonly deadLetterQueues: sqs.IQueue[];
  readonly queues: { readonly deploy: ReliableQueue; readonly canary: ReliableQueue; readonly results: ReliableQueue };
}

/**
 * The alarms and dashboard of a LambdaRuntimeService. Alarms cannot sum the per-function EMF
 * metrics across their `FunctionName` dimension, so the all-functions calls, errors and
 * throttles come from metric filters on the invoke handler's one log line per recorded call;
 * the dashboard shows the per-function EMF metrics with SEARCH.
 */
export class RuntimeAlarms extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: RuntimeAlarmsProps) {
    super(scope, id);
    const { thresholds: t, topic } = props;
    for (const f of props.functions) {
      addFunctionAlarms(this, f.node.id, f, topic, { errorRatePercent: t.functionErrorRatePercent, p95Duration: t.functionP95Duration });
    }
    for (const dlq of props.deadLetterQueues) addDeadLetterQueueAlarm(this, dlq.node.id, dlq, topic);
    addApi5xxAlarm(this, 'Api', props.api, topic, t.api5xxRatePercent);

    const calls = this.callMetric('PlatformCalls', undefined, props.invokeFunction);
    const errors = this.callMetric('PlatformErrors', [InvocationStatus.ERROR, InvocationStatus.TIMEOUT], props.invokeFunction);
    const throttles = this.callMetric('PlatformThrottles', [InvocationStatus.THROTTLED], props.invokeFunction);
    const errorRate = new cloudwatch.MathExpression({
      expression: 'IF(calls >= 10, 100 * errors / calls, 0)',
      usingMetrics: { errors, calls },
      label: 'Platform function error rate (%)',
      period: Duration.minutes(5),
    });
    notify(errorRate.createAlarm(this, 'PlatformErrorRateAlarm', {
      alarmDescription: `${scope.node.path}: more than ${t.platformErrorRatePercent}% of calls through the API failed in 5 minutes (at least 10 calls)`,
      threshold: t.platformErrorRatePercent,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }), topic);
    notify(throttles.createAlarm(this, 'PlatformThrottlesAlarm', {
      alarmDescription: `${scope.node.path}: more than ${t.throttledCalls} calls refused by function rate limits in 5 minutes`,
      threshold: t.throttledCalls,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }), topic);
    notify(props.syncFunction.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(1) }).createAlarm(this, 'SyncIteratorAgeAlarm', {
      alarmDescription: `${props.syncFunction.node.path}: registry stream iterator age above 5 minutes (schedules and purges are late)`,
      threshold: 300_000,
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }), topic);
    this.dashboard = this.createDashboard(props, { calls, errors, throttles });
  }

  /** Calls recorded by the invoke handler (of the given statuses, or all), summed over 5 minutes. */
  private callMetric(name: string, statuses: string[] | undefined, invokeFunction: lambda.Function): cloudwatch.Metric {
    const message = logs.FilterPattern.stringValue('$.message', '=', INVOCATION_LOG_MESSAGE);
    const status = statuses ? logs.FilterPattern.any(...statuses.map((s) => logs.FilterPattern.stringValue('$.status', '=', s))) : undefined;
    return new logs.MetricFilter(this, `${name}Filter`, {
      logGroup: invokeFunction.logGroup,
      metricNamespace: LAMBDA_RUNTIME_METRICS_NAMESPACE,
      metricName: `${name}-${Names.uniqueId(this)}`.slice(0, 255),
      filterPattern: status ? logs.FilterPattern.all(message, status) : message,
      metricValue: '1',
      // A data point (0) whenever the invoke handler logs anything: rates have both sides.
      defaultValue: 0,
    }).metric({ statistic: 'Sum', period: Duration.minutes(5) });
  }

  private createDashboard(props: RuntimeAlarmsProps, totals: Record<'calls' | 'errors' | 'throttles', cloudwatch.Metric>): cloudwatch.Dashboard {
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard');
    const perFunction = (metricName: string, statistic: string) => new cloudwatch.MathExpression({
      expression: `SEARCH('{${LAMBDA_RUNTIME_METRICS_NAMESPACE},FunctionName,service} MetricName="${metricName}"', '${statistic}', 300)`,
      label: '',
      period: Duration.minutes(5),
    });
    const { deploy, canary, results } = props.queues;
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Calls, errors and throttles (all functions)', left: [totals.calls, totals.errors, totals.throttles] }),
      new cloudwatch.GraphWidget({ title: 'Invocations per function', left: [perFunction(LambdaRuntimeMetrics.INVOCATIONS, 'Sum')] }),
      new cloudwatch.GraphWidget({ title: 'Errors per function', left: [perFunction(LambdaRuntimeMetrics.ERRORS, 'Sum')] }),
      new cloudwatch.GraphWidget({ title: 'Throttles (429) per function', left: [perFunction(LambdaRuntimeMetrics.THROTTLES, 'Sum')] }),
      new cloudwatch.GraphWidget({ title: 'Duration p95 per function (ms)', left: [perFunction(LambdaRuntimeMetrics.DURATION, 'p95')] }),
      new cloudwatch.GraphWidget({ title: 'Cold starts per function', left: [perFunction(LambdaRuntimeMetrics.COLD_STARTS, 'Sum')] }),
      new cloudwatch.GraphWidget({
        title: 'Metadata cache hits and misses',
        left: [perFunction(LambdaRuntimeMetrics.CACHE_HITS, 'Sum'), perFunction(LambdaRuntimeMetrics.CACHE_MISSES, 'Sum')],
      }),
      new cloudwatch.GraphWidget({ title: 'API requests and errors', left: [props.api.metricCount(), props.api.metricClientError(), props.api.metricServerError()] }),
      new cloudwatch.GraphWidget({
        title: 'Deploy, canary and results queues: depth',
        left: [deploy, canary, results].map((q) => q.queue.metricApproximateNumberOfMessagesVisible()),
      }),
      new cloudwatch.GraphWidget({ title: 'Service handler errors', left: props.functions.map((f) => f.metricErrors()) }),
      new cloudwatch.GraphWidget({
        title: 'Dead-letter queues',
        left: [...props.deadLetterQueues, deploy.deadLetterQueue, canary.deadLetterQueue, results.deadLetterQueue]
          .map((q) => q.metricApproximateNumberOfMessagesVisible()),
      }),
    );
    return dashboard;
  }
}
