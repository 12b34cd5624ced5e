import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { environmentResources } from './template-walk';
import { BuildPipelineHandlers } from '../../lib/build-pipeline/contract';
import { handlerAssetDir } from '../../lib/core/handler-bundling';
import type { HandlerContract } from '../../lib/core/service-function';
import { EnrollmentSagaHandlers } from '../../lib/enrollment-saga/contract';
import { LambdaRuntimeHandlers } from '../../lib/lambda-runtime-service/contract';
import { PaymentOutboxHandlers } from '../../lib/payment-outbox/contract';
import { ProductApiHandlers } from '../../lib/product-api/contract';

const CONTRACTS: HandlerContract[] = [ProductApiHandlers, PaymentOutboxHandlers, EnrollmentSagaHandlers, BuildPipelineHandlers, LambdaRuntimeHandlers]
  .flatMap((h) => Object.values(h))
  // Only with the `jwt` prop, which the example app does not set: its construct test checks its environment.
  .filter((c) => c !== LambdaRuntimeHandlers.jwtAuthorizer);
/** Every variable any contract names: a handler reading one of these must get it from its construct. */
const CONTRACT_VARIABLES = new Set(CONTRACTS.flatMap((c) => [...c.environment]));
/** Set by ServiceFunction for the runtime and Powertools, not by the service. */
const RUNTIME_VARIABLES = new Set(['POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_LOG_LEVEL', 'NODE_OPTIONS']);

/**
 * Loads a shipped bundle in a fresh Node process whose `process.env` is exactly `env`
 * (behind a Proxy that records every name read), as Lambda's init would.
 */
function initWith(bundle: string, env: Record<string, string>): { ok: boolean; error?: string; read: string[] } {
  const script = `
    const read = new Set();
    const target = ${JSON.stringify({ AWS_REGION: 'eu-west-1' })};
    Object.assign(target, JSON.parse(process.argv[1]));
    process.env = new Proxy(target, {
      get: (t, k) => { if (typeof k === 'string') read.add(k); return t[k]; },
      has: (t, k) => { if (typeof k === 'string') read.add(k); return k in t; },
    });
    let result;
    try { require(${JSON.stringify(bundle)}); result = { ok: true }; } catch (e) { result = { ok: false, error: String(e && e.message) }; }
    process.stdout.write(JSON.stringify({ ...result, read: [...read] }));`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script, JSON.stringify(env)], { encoding: 'utf8' }));
}

/** A template value as a handler would see it: tokens (Ref, GetAtt, Join) become a plausible ARN-ish string. */
const valueOf = (v: unknown) => (typeof v === 'string' ? v : 'arn:aws:service:eu-west-1:111111111111:resource/placeholder');

describe('construct and handler agree on the environment', () => {
  const resources = environmentResources('dev');
  const functions = Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties?.Environment?.Variables?.POWERTOOLS_SERVICE_NAME)
    .map(([id, r]) => ({ id, variables: r.Properties.Environment.Variables as Record<string, unknown> }));

  test('every function of the example app is a contract handler', () => {
    expect(functions.length).toBeGreaterThanOrEqual(22);
    const names = functions.map((f) => f.variables.POWERTOOLS_SERVICE_NAME);
    expect(names.filter((n) => !CONTRACTS.some((c) => c.serviceName === n))).toEqual([]);
  });

  test.each(CONTRACTS.map((c) => [c.serviceName, c] as const))('%s: starts with exactly what its construct sets and reads all of it', (serviceName, contract) => {
    const fn = functions.find((f) => f.variables.POWERTOOLS_SERVICE_NAME === serviceName);
    expect(fn).toBeDefined();
    const env = Object.fromEntries(Object.entries(fn!.variables).map(([k, v]) => [k, valueOf(v)]));
    const result = initWith(path.join(handlerAssetDir(contract.entry, false), 'index.js'), env);
    expect(result.error).toBeUndefined();
    // a variable the handler reads (of any contract) that its construct does not set
    expect(result.read.filter((name) => CONTRACT_VARIABLES.has(name) && !(name in env))).toEqual([]);
    // a variable the construct sets that the handler never reads
    expect(Object.keys(env).filter((name) => !RUNTIME_VARIABLES.has(name) && !result.read.includes(name))).toEqual([]);
  });

  test.each(CONTRACTS.filter((c) => c.environment.length > 0).map((c) => [c.serviceName, c] as const))(
    '%s: a missing variable fails the cold start naming it', (_, contract) => {
      const missing = contract.environment[contract.environment.length - 1];
      const env = Object.fromEntries(contract.environment.filter((n) => n !== missing).map((n) => [n, '1']));
      const result = initWith(path.join(handlerAssetDir(contract.entry, false), 'index.js'), env);
      expect(result.ok).toBe(false);
      expect(result.error).toContain(missing);
    });
});
