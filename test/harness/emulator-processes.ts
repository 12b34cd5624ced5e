import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import * as path from 'node:path';

/** Where global setup records the engines' endpoints for the test workers. */
export const EMULATORS_FILE = path.join(__dirname, '..', '..', '.tmp', 'emulators.json');
// fauxqs exports no package.json, so the engines are found in the project's node_modules.
const NODE_MODULES = path.join(__dirname, '..', '..', 'node_modules');

export interface EmulatorProcess {
  readonly endpoint: string;
  readonly pid: number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForHttp(url: string, child: ChildProcess, name: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited early with code ${child.exitCode}`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(1_000) });
      return; // any HTTP answer means the engine is listening
    } catch (error) {
      lastError = error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${name} did not answer on ${url} within ${timeoutMs} ms: ${String(lastError)}`);
}

function track(child: ChildProcess, endpoint: string): EmulatorProcess {
  return {
    endpoint,
    pid: child.pid ?? -1,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3_000).unref();
      }),
  };
}

/** The engine once it answers; one that never does is killed, so a failed start leaves no process behind. */
async function ready(child: ChildProcess, endpoint: string, probeUrl: string, name: string): Promise<EmulatorProcess> {
  const engine = track(child, endpoint);
  try {
    await waitForHttp(probeUrl, child, name);
  } catch (error) {
    await engine.stop();
    throw error;
  }
  return engine;
}

/** DynamoDB Local, the official engine, from the jar that amplify-dynamodb-simulator ships. */
export async function startDynamoDbLocal(): Promise<EmulatorProcess> {
  const emulatorDir = path.join(NODE_MODULES, 'amplify-dynamodb-simulator', 'emulator');
  const port = await freePort();
  const child = spawn(
    'java',
    [`-Djava.library.path=${path.join(emulatorDir, 'DynamoDBLocal_lib')}`, '-jar', 'DynamoDBLocal.jar', '-inMemory', '-port', String(port)],
    { cwd: emulatorDir, stdio: 'ignore' },
  );
  const endpoint = `http://127.0.0.1:${port}`;
  return ready(child, endpoint, endpoint, 'DynamoDB Local');
}

/** fauxqs: SQS (FIFO, DLQ redrive), SNS fan-out and S3 on one endpoint. Needs Node >= 22.5. */
export async function startFauxqs(): Promise<EmulatorProcess> {
  const cli = path.join(NODE_MODULES, 'fauxqs', 'dist', 'cli.js');
  const port = await freePort();
  const child = spawn(process.execPath, [cli], {
    env: { ...process.env, FAUXQS_PORT: String(port), FAUXQS_LOGGER: 'false', FAUXQS_HOST: 'localhost' },
    stdio: 'ignore',
  });
  const endpoint = `http://127.0.0.1:${port}`;
  return ready(child, endpoint, `${endpoint}/health`, 'fauxqs');
}
