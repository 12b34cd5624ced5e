import { createServer, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local endpoint speaking the AWS JSON 1.1 wire protocol (POST /, `X-Amz-Target:
 * <Service>.<Operation>`, JSON in and out), for services that have no local engine on npm
 * (EventBridge, Secrets Manager). The SDK inside the real handler bundle talks to it over
 * HTTP, so the calls are captured at the network boundary, not mocked in the client.
 */
export class AwsJsonError extends Error {
  constructor(readonly type: string, message: string, readonly statusCode = 400) {
    super(message);
  }
}

export type JsonOperation = (input: any) => unknown;

export interface CapturedCall {
  readonly target: string;
  readonly input: any;
}

export interface LocalJsonEndpoint {
  /** The URL to put in AWS_ENDPOINT_URL_<SERVICE>. */
  readonly endpoint: string;
  /** Every request, in arrival order (failed ones too). */
  readonly calls: CapturedCall[];
  stop(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Serves `operations` (keyed by the full X-Amz-Target) on a free port of 127.0.0.1. */
export async function startJsonEndpoint(operations: Record<string, JsonOperation>): Promise<LocalJsonEndpoint> {
  const calls: CapturedCall[] = [];
  const server: Server = createServer(async (req, res) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const reply = (status: number, body: unknown, errorType?: string) => {
      res.writeHead(status, {
        'content-type': 'application/x-amz-json-1.1',
        ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
      });
      res.end(JSON.stringify(body));
    };
    try {
      const input = JSON.parse((await readBody(req)) || '{}');
      calls.push({ target, input });
      const operation = operations[target];
      if (!operation) throw new AwsJsonError('UnknownOperationException', `No local operation ${target}`);
      reply(200, (await operation(input)) ?? {});
    } catch (error) {
      const e = error instanceof AwsJsonError ? error : new AwsJsonError('InternalFailure', String(error), 500);
      reply(e.statusCode, { __type: e.type, message: e.message }, e.type);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
