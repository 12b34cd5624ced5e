import { writeFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { startDynamoDbLocal, startFauxqs, EMULATORS_FILE, type EmulatorProcess } from './emulator-processes';
import { bundleHandlers } from '../../projenrc/bundle-handlers';

/**
 * Builds the handler bundles the package ships (only those older than their sources),
 * then starts the local engines once per jest run, on free ports, and publishes their
 * endpoints (env for the workers, a file for tools). Teardown stops them.
 */
export default async function globalSetup(): Promise<void> {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 22 || (major === 22 && minor < 5)) {
    // fauxqs needs node:sqlite; Lambda runs Node 24. npm scripts put the `node` devDependency first on PATH.
    throw new Error(`Tests need Node >= 22.5 (Lambda runs 24), got ${process.version}: run them with 'npm test'`);
  }
  const started = await Promise.allSettled([startDynamoDbLocal(), startFauxqs(), bundleHandlers({ onlyOutdated: true })]);
  const failure = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) {
    // Teardown does not run after a failed setup: stop the engine that did start, or it outlives the run.
    await Promise.all(started.slice(0, 2).map((r) => (r.status === 'fulfilled' ? (r.value as EmulatorProcess).stop() : undefined)));
    throw failure.reason;
  }
  const [dynamodb, fauxqs] = started.map((r) => (r as PromiseFulfilledResult<EmulatorProcess>).value);
  const endpoints = { dynamodb: dynamodb.endpoint, fauxqs: fauxqs.endpoint, pids: [dynamodb.pid, fauxqs.pid] };
  mkdirSync(path.dirname(EMULATORS_FILE), { recursive: true });
  writeFileSync(EMULATORS_FILE, JSON.stringify(endpoints));
  process.env.TEST_DYNAMODB_ENDPOINT = dynamodb.endpoint;
  process.env.TEST_FAUXQS_ENDPOINT = fauxqs.endpoint;
  (globalThis as any).__EMULATORS__ = [dynamodb, fauxqs];
}
