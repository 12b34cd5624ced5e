import { App, Stack, Validations } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';

/**
 * An app for construct tests: no asset bundling (templates don't need the bundles, and
 * bundling every function on every test costs seconds), cdk-nag AwsSolutions attached.
 */
export function testApp(options: { nag?: boolean } = {}): App {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return app;
}

export function testStack(app: App = testApp()): Stack {
  return new Stack(app, 'TestStack', { env: { account: '111111111111', region: 'eu-west-1' } });
}

/**
 * The template for a snapshot, with asset hashes masked: a snapshot guards the
 * infrastructure, and must not fail on every edit of a handler's source.
 */
export function snapshotOf(template: { toJSON(): unknown }): unknown {
  return JSON.parse(JSON.stringify(template.toJSON()).replace(/[0-9a-f]{64}/g, '<asset-hash>'));
}

/** The function whose Powertools service name is `serviceName`: its logical id and properties. */
export function functionNamed(template: Template, serviceName: string): { logicalId: string; props: any } {
  const fns = template.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { POWERTOOLS_SERVICE_NAME: serviceName } } } });
  return { logicalId: Object.keys(fns)[0], props: (Object.values(fns)[0] as any)?.Properties };
}

/** The statements of every IAM policy attached to the role of the function named `serviceName`. */
export function statementsOf(template: Template, serviceName: string): any[] {
  const roleId = functionNamed(template, serviceName).props.Role['Fn::GetAtt'][0];
  return (Object.values(template.findResources('AWS::IAM::Policy')) as any[])
    .filter((p) => p.Properties.Roles.some((r: any) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

/** The distinct actions the role of the function named `serviceName` is allowed, sorted. */
export function actionsOf(template: Template, serviceName: string): string[] {
  return [...new Set<string>(statementsOf(template, serviceName).flatMap((st: any) => [st.Action].flat() as string[]))].sort();
}
