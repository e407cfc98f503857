import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The local stand-in for Step Functions' task-token API. aws-local-stepfunctions has no
 * `.waitForTaskToken`, so the runner mints tokens here and the handlers' real SFN client
 * (pointed at this server through AWS_ENDPOINT_URL_SFN) answers them with SendTaskSuccess or
 * SendTaskFailure over the real AWS JSON protocol.
 */
export class TaskFailure extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

interface Pending {
  resolve: (output: unknown) => void;
  reject: (error: Error) => void;
}

export class TaskTokenServer {
  private readonly pending = new Map<string, Pending>();
  private server: Server | undefined;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      req.on('end', () => {
        const [status, payload] = this.answer(String(req.headers['x-amz-target'] ?? ''), body);
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify(payload));
      });
    });
    // Never keeps the process alive on its own: server.unref() covers the listening socket only;
    // each accepted keep-alive connection would hold the event loop until Node's keep-alive
    // timeout, seconds after a CLI has printed its result.
    this.server.on('connection', (socket) => socket.unref());
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.server.unref();
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const closed = new Promise((resolve) => this.server?.close(resolve));
    this.server?.closeAllConnections();
    await closed;
  }

  /** A new token and the promise its answer settles. */
  mint(): { token: string; answer: Promise<unknown>; forget: () => void } {
    const token = `local-${randomUUID()}`;
    const answer = new Promise<unknown>((resolve, reject) => this.pending.set(token, { resolve, reject }));
    return { token, answer, forget: () => this.pending.delete(token) };
  }

  private answer(target: string, body: string): [number, unknown] {
    const action = target.split('.').pop();
    let input: { taskToken?: string; output?: string; error?: string; cause?: string };
    try {
      input = JSON.parse(body || '{}');
    } catch {
      return [400, { __type: 'SerializationException', message: 'body is not JSON' }];
    }
    const waiting = input.taskToken ? this.pending.get(input.taskToken) : undefined;
    if (!waiting) return [400, { __type: 'TaskDoesNotExist', message: 'no task waits for this token' }];
    if (action === 'SendTaskHeartbeat') return [200, {}];
    this.pending.delete(input.taskToken ?? '');
    if (action === 'SendTaskSuccess') {
      waiting.resolve(JSON.parse(input.output ?? 'null'));
      return [200, {}];
    }
    if (action === 'SendTaskFailure') {
      waiting.reject(new TaskFailure(input.error ?? 'States.TaskFailed', input.cause ?? ''));
      return [200, {}];
    }
    return [400, { __type: 'UnknownOperationException', message: `${action} is not served locally` }];
  }
}

let shared: { server: TaskTokenServer; endpoint: Promise<string> } | undefined;

/**
 * One server per process: the handlers' SFN client is created once and keeps the endpoint it
 * was created with, so every local bake in a process must answer on the same address.
 */
export function sharedTaskTokenServer(): { server: TaskTokenServer; endpoint: Promise<string> } {
  if (!shared) {
    const server = new TaskTokenServer();
    shared = { server, endpoint: server.start() };
  }
  return shared;
}
