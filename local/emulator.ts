import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureVenv } from './venv.js';

/**
 * The local AWS emulator: moto's server, pinned in local/emulator-requirements.txt, installed
 * into a project-local virtualenv on first use and run on a free loopback port.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const requirements = join(root, 'local', 'emulator-requirements.txt');
export const venvDir = process.env.AMI_BAKE_EMULATOR_VENV ?? join(root, '.venv-emulator');
const motoServer = join(venvDir, 'bin', 'moto_server');

export function emulatorVersion(): string {
  return readFileSync(requirements, 'utf8').trim();
}

/** Creates the virtualenv and installs moto unless the pinned requirements are already there. */
export async function ensureEmulator(log: (line: string) => void = () => {}): Promise<void> {
  await ensureVenv({
    dir: venvDir,
    requirements,
    what: `the AWS emulator (${emulatorVersion()}, about a minute)`,
    log,
  });
}

export interface RunningEmulator {
  endpoint: string;
  stop(): Promise<void>;
}

/** Starts moto on a free loopback port and resolves once it answers. */
export async function startEmulator(): Promise<RunningEmulator> {
  const port = await freePort();
  // moto logs every request on stderr. Into a file, not a pipe: a pipe is drained by this
  // process's event loop, and a parent blocked in spawnSync (a test running the CLI) would let it
  // fill up and stall moto mid-request.
  const logDir = mkdtempSync(join(tmpdir(), 'ami-bake-emulator-'));
  const log = join(logDir, 'moto.log');
  const logFd = openSync(log, 'w');
  const child = spawn(motoServer, ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', logFd],
    env: { ...process.env, MOTO_ENABLE_AMI_VALIDATION: 'true' },
  });
  closeSync(logFd);
  const stderr = () => {
    try {
      return readFileSync(log, 'utf8').slice(-4000);
    } catch {
      return '';
    }
  };
  const endpoint = `http://127.0.0.1:${port}`;
  await waitUntilUp(endpoint, child, stderr);
  return {
    endpoint,
    stop: async () => {
      await stopChild(child);
      rmSync(logDir, { recursive: true, force: true });
    },
  };
}

async function waitUntilUp(endpoint: string, child: ChildProcess, stderr: () => string) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the emulator exited with ${child.exitCode}: ${stderr()}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/data.json`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`the emulator did not answer on ${endpoint} within 60 s: ${stderr()}`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
