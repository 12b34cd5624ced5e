import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { EnvironmentStack, parseEnvironmentConfig } from '../../bin/stacks';

// The environments exactly as cdk.json defines them.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const environments = require('../../cdk.json').context.environments as Record<string, unknown>;

/** The example app's stack for one environment, as `cdk synth -c env=<name>` builds it. */
export function environmentStack(name: string, app = new App()): EnvironmentStack {
  return new EnvironmentStack(app, `cdk-event-services-${name}`, {
    config: parseEnvironmentConfig(name, environments[name]),
    env: { account: '111111111111', region: 'eu-west-1' },
  });
}

export const ENVIRONMENTS = Object.keys(environments);

export type Resources = Record<string, { Type: string; Properties?: any; DependsOn?: unknown }>;

export function resourcesOf(stack: Stack): Resources {
  return Template.fromStack(stack).toJSON().Resources as Resources;
}

/** The logical id behind `{ Ref: id }` or `{ 'Fn::GetAtt': [id, …] }`, if that is what `value` is. */
export function referencedId(value: unknown): string | undefined {
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (typeof v.Ref === 'string') return v.Ref;
    if (Array.isArray(v['Fn::GetAtt'])) return v['Fn::GetAtt'][0] as string;
  }
  return undefined;
}

export const asArray = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

/** The statements of a policy document that allow `action` to the service principal `service`. */
export function allowsService(document: any, service: string, action: string): any[] {
  return asArray(document?.Statement).filter((s: any) =>
    s.Effect === 'Allow' &&
    asArray(s.Principal?.Service).some((p: any) => JSON.stringify(p).includes(service)) &&
    asArray(s.Action).some((a: string) => a === action || (a.endsWith('*') && action.startsWith(a.slice(0, -1)))));
}
