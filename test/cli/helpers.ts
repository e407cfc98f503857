import { spawnSync } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';
import type { Io } from '../../cli/io.js';
import { main } from '../../cli/main.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Milliseconds each poll waited (watch). */
  sleeps: number[];
}

/** Runs the CLI in-process, as `ami-bake …` would, and captures what it printed. */
export async function cli(...argv: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const sleeps: number[] = [];
  const io: Io = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    env: process.env,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    now: () => new Date(),
  };
  const code = await main(argv, io);
  return {
    code,
    stdout: out.map((l) => `${l}\n`).join(''),
    stderr: err.map((l) => `${l}\n`).join(''),
    sleeps,
  };
}

/**
 * Runs bin/ami-bake.mjs in a child process. The tests may run on an older Node than the CLI
 * requires (vitest.config.ts sets AMI_BAKE_IGNORE_NODE): a test's own environment keeps that.
 */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv = process.env, timeout = 60_000) {
  const r = spawnSync(process.execPath, ['bin/ami-bake.mjs', ...args], {
    encoding: 'utf8',
    env: { AMI_BAKE_IGNORE_NODE: process.env.AMI_BAKE_IGNORE_NODE, ...env },
    timeout,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface AwsCall {
  /** `AWSStepFunctions.DescribeExecution`, or the query Action for CloudFormation. */
  target: string;
  body: Record<string, unknown>;
}

type Reply = { status?: number; body: unknown };
export type FakeHandler = (call: AwsCall) => Reply | Promise<Reply>;

/**
 * A tiny AWS JSON 1.0 endpoint: answers what the emulator cannot answer realistically (an
 * execution history with stages, AccessDenied) and records every call. Point the SDK at it with
 * AWS_ENDPOINT_URL.
 */
export function useFakeAws(): { calls: AwsCall[]; reply: (handler: FakeHandler) => void } {
  const calls: AwsCall[] = [];
  let handler: FakeHandler = () => ({
    status: 500,
    body: { __type: 'InternalError', message: 'no handler' },
  });
  let server: Server | undefined;
  beforeAll(async () => {
    server = createServer(async (req, res) => {
      const text = await read(req);
      const target = String(req.headers['x-amz-target'] ?? new URLSearchParams(text).get('Action') ?? '');
      const call = {
        target,
        body: target.includes('.') ? (JSON.parse(text || '{}') as Record<string, unknown>) : {},
      };
      calls.push(call);
      const reply = await handler(call);
      res.writeHead(reply.status ?? 200, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify(reply.body));
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: 'us-east-1',
      AWS_MAX_ATTEMPTS: '1',
    });
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
  });
  return {
    calls,
    reply: (h) => {
      handler = h;
      calls.length = 0;
    },
  };
}

async function read(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:ami-bake-test';
export const BAKE_ID = 'example-web_0f3a9c1d2e4b_202611260524337a1c';
export const EXECUTION_ARN = `arn:aws:states:us-east-1:123456789012:execution:ami-bake-test:${BAKE_ID}`;
