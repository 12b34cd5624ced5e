import { CfnElement, Stack, Token, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Acknowledges cdk-nag findings on `scope` and everything below it. cdk-nag 3 matches
 * wildcard findings one by one (`AwsSolutions-IAM5[Resource::...]`), so each finding is
 * named exactly, and each carries its reason.
 */
export function acknowledgeFindings(scope: IConstruct, findings: Record<string, string>): void {
  for (const [id, reason] of Object.entries(findings)) {
    Validations.of(scope).acknowledge({ id, reason });
  }
}

/** How cdk-nag writes the ARN of a resource in a finding id: `<LogicalId.Arn>`. */
export function nagArn(resource: IConstruct): string {
  const element = resource.node.defaultChild as CfnElement;
  return `<${Stack.of(resource).resolve(element.logicalId)}.Arn>`;
}

/** The same acknowledgement for a rule the NIST 800-53 R5 and PCI DSS 3.2.1 packs both check. */
export function inBothRegulatoryPacks(rule: string, reason: string): Record<string, string> {
  return { [`NIST.800.53.R5-${rule}`]: reason, [`PCI.DSS.321-${rule}`]: reason };
}

/**
 * How cdk-nag writes an ARN built from the stack's pseudo parameters in a finding id:
 * `arn:<AWS::Partition>:{service}:{region}:{account}:{resource}`, region and account literal
 * when the stack has them, `<AWS::Region>` / `<AWS::AccountId>` when it is environment-agnostic.
 */
export function nagPseudoArn(scope: IConstruct, service: string, resource: string): string {
  const stack = Stack.of(scope);
  const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
  const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  return `arn:<AWS::Partition>:${service}:${region}:${account}:${resource}`;
}
