import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/** One request as the receiver saw it. */
export interface Received {
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export type Route = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

export interface Receiver {
  readonly port: number;
  readonly received: Received[];
  /** Requests whose socket the receiver saw open (before any body), by path. */
  readonly hits: Map<string, number>;
  close(): Promise<void>;
}

/** A webhook receiver on 127.0.0.1 (only), plain HTTP or HTTPS with the given key and certificate. */
export async function startReceiver(routes: Record<string, Route>, tls?: { key: string; cert: string }): Promise<Receiver> {
  const received: Received[] = [];
  const hits = new Map<string, number>();
  const listener: http.RequestListener = (req, res) => {
    const url = req.url ?? '/';
    hits.set(url, (hits.get(url) ?? 0) + 1);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ path: url, headers: req.headers, body });
      const route = routes[url.split('?')[0]];
      if (route) {
        route(req, res, body);
      } else {
        res.writeHead(404).end('no route');
      }
    });
  };
  const server = tls ? https.createServer({ key: tls.key, cert: tls.cert }, listener) : http.createServer(listener);
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    received,
    hits,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Streams `total` bytes in 64 KB chunks, counting what was written, stopping when the client hangs up. */
export function hugeRoute(counter: { value: number }, total: number): Route {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const pump = (): void => {
      while (counter.value < total && !res.destroyed) {
        counter.value += chunk.length;
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
      if (!res.destroyed) res.end();
    };
    res.on('close', () => res.removeAllListeners('drain'));
    pump();
  };
}

/** Whether openssl is on PATH (to make a self-signed certificate: Node cannot create X.509 itself). */
export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A throwaway P-256 key and self-signed certificate for `name`, valid one day. */
export function selfSignedCertificate(name: string): { key: string; cert: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'webhook-tls-'));
  try {
    const keyFile = path.join(dir, 'key.pem');
    const certFile = path.join(dir, 'cert.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`,
    ], { stdio: 'ignore' });
    return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
