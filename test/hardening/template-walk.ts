import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { createEnvironment, parseEnvironmentConfig } from '../../bin/stacks';

// The environments exactly as cdk.json defines them.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const environments = require('../../cdk.json').context.environments as Record<string, unknown>;

/** The example app's stacks for one environment (services, function platform), as `cdk synth -c env=<name>` builds them. */
export function environmentStacks(name: string, app = new App()): Stack[] {
  const { services, functions } = createEnvironment(app, name, parseEnvironmentConfig(name, environments[name]), {
    env: { account: '111111111111', region: 'eu-west-1' },
  });
  return [services, functions];
}

/**
 * One environment's resources as one template: the stacks' resources together, each
 * `Fn::ImportValue` replaced by the value its export holds (a `Ref` or `GetAtt` of the other
 * stack), so the walks follow a reference across stacks as they follow one within a stack.
 */
export function environmentResources(name: string): Resources {
  const templates = environmentStacks(name).map((stack) => Template.fromStack(stack).toJSON());
  const exports = new Map<string, unknown>();
  for (const t of templates) {
    for (const output of Object.values((t.Outputs ?? {}) as Record<string, any>)) {
      if (output.Export?.Name) exports.set(output.Export.Name, output.Value);
    }
  }
  const resolveImports = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolveImports);
    if (value && typeof value === 'object') {
      const v = value as Record<string, unknown>;
      if (typeof v['Fn::ImportValue'] === 'string' && exports.has(v['Fn::ImportValue'])) return exports.get(v['Fn::ImportValue']);
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolveImports(x)]));
    }
    return value;
  };
  const merged: Resources = {};
  for (const t of templates) {
    for (const [id, resource] of Object.entries(t.Resources as Resources)) {
      if (id in merged) throw new Error(`logical id ${id} is in two stacks of ${name}`);
      merged[id] = resolveImports(resource) as Resources[string];
    }
  }
  return merged;
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
