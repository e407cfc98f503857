import { Agent, createServer, type IncomingHttpHeaders, request } from 'node:http';
import type { Socket } from 'node:net';
import { type Reply, syntheticAuthorization } from './ec2-query.js';

export interface Incoming {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** 'drop': destroy the socket without an answer (the SDK sees a network error). */
export type Handler = (req: Incoming) => Promise<Reply | 'drop'>;

// Hop-by-hop or recomputed headers: never copied between the two connections.
const skipped = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'host']);

export class Upstream {
  readonly url: URL;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 32 });

  constructor(endpoint: string) {
    this.url = new URL(endpoint);
  }

  /** Sends a request to moto as is (body may have been rewritten: Content-Length is recomputed). */
  send(method: string, path: string, headers: IncomingHttpHeaders, body: Buffer | string): Promise<Reply> {
    const payload = typeof body === 'string' ? Buffer.from(body) : body;
    const outHeaders: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(headers)) if (v !== undefined && !skipped.has(k)) outHeaders[k] = v;
    outHeaders['content-length'] = String(payload.length);
    // The caller's Host is kept: moto builds URLs it returns (SQS QueueUrl) from it, and those must
    // lead back through the layer.
    outHeaders.host = typeof headers.host === 'string' ? headers.host : this.url.host;
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: this.url.hostname,
          port: this.url.port,
          method,
          path,
          headers: outHeaders,
          agent: this.agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const replyHeaders: Record<string, string> = {};
            for (const [k, v] of Object.entries(res.headers)) {
              if (v !== undefined && !skipped.has(k)) replyHeaders[k] = Array.isArray(v) ? v.join(', ') : v;
            }
            resolve({ status: res.statusCode ?? 502, headers: replyHeaders, body: Buffer.concat(chunks) });
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** The layer's own EC2 call in a region (not recorded, not faulted, not throttled). */
  ec2(region: string, params: URLSearchParams): Promise<Reply> {
    return this.send(
      'POST',
      '/',
      {
        'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
        authorization: syntheticAuthorization(region),
      },
      params.toString(),
    );
  }

  close(): void {
    this.agent.destroy();
  }
}

export interface RunningServer {
  endpoint: string;
  close(): Promise<void>;
}

/** Binds 127.0.0.1 on a free port; neither the server nor its idle connections keep Node alive. */
export function serve(handler: Handler): Promise<RunningServer> {
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const incoming = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      handler(incoming).then(
        (reply) => {
          if (reply === 'drop') {
            req.socket.destroy();
            return;
          }
          const body = typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body;
          res.writeHead(reply.status, { ...reply.headers, 'content-length': String(body.length) });
          res.end(body);
        },
        (error: unknown) => {
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(`aws-behaviour layer: ${error instanceof Error ? error.message : String(error)}`);
        },
      );
    });
  });
  // Accepted connections hold the event loop even after server.unref(): unref each one too.
  server.on('connection', (socket) => {
    socket.unref();
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.keepAliveTimeout = 1000;
  server.unref();
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      resolve({
        endpoint: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
