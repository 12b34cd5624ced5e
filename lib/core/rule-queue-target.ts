import { Names } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { ReliableQueue } from './reliable-queue';

/**
 * A rule → queue target whose queue and DLQ policies let EventBridge send for this one rule
 * only (aws:SourceArn). CDK's SqsQueue target names only the account on an encrypted queue
 * and grants EventBridge the queue key without a condition KMS could check; here the key
 * statement is the construct's own (kms:ViaService, encryption context).
 */
export class RuleQueueTarget implements events.IRuleTarget {
  constructor(private readonly target: ReliableQueue, private readonly retryAttempts = 185) {}

  bind(rule: events.IRule): events.RuleTargetConfig {
    const { queue, deadLetterQueue } = this.target;
    for (const q of [queue, deadLetterQueue]) {
      q.addToResourcePolicy(new iam.PolicyStatement({
        sid: `AllowEventBridgeRule${q === queue ? '' : 'DeadLetters'}${Names.nodeUniqueId(rule.node)}`,
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [q.queueArn],
        conditions: { ArnEquals: { 'aws:SourceArn': rule.ruleArn } },
      }));
    }
    return {
      arn: queue.queueArn,
      targetResource: queue,
      // Delivery retried for 24 h (185 attempts), then kept in the DLQ, alarmed.
      retryPolicy: { maximumRetryAttempts: this.retryAttempts },
      deadLetterConfig: { arn: deadLetterQueue.queueArn },
    };
  }
}
