import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A project-local Python virtualenv holding pinned requirements, created on first use so that a
 * clean clone (and CI) installs what it needs itself. A stamp of the requirements' hash tells
 * when the venv is current; a lock makes parallel test files wait for one install.
 */
export async function ensureVenv(o: {
  dir: string;
  requirements: string;
  /** For the progress line: what is installed and how long it takes. */
  what: string;
  log?: (line: string) => void;
}): Promise<void> {
  const stamp = join(o.dir, '.ami-bake-requirements');
  const wanted = createHash('sha256').update(readFileSync(o.requirements)).digest('hex');
  const ready = () => existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted;
  if (ready()) return;
  await withLock(`${o.dir}.lock`, () => {
    if (ready()) return;
    o.log?.(`installing ${o.what} into ${o.dir} (first run only)`);
    run(process.env.PYTHON ?? 'python3', ['-m', 'venv', o.dir]);
    run(join(o.dir, 'bin', 'python'), [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      '-r',
      o.requirements,
    ]);
    writeFileSync(stamp, wanted);
  });
}

/**
 * Runs a step of the install with its output kept (an install happens inside a test run or a
 * local bake, whose output is the results): it is shown only when the step fails.
 */
function run(command: string, args: string[]) {
  const result = spawnSync(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trimEnd().slice(-4000);
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`}); is python3 with venv installed?${output ? `\n${output}` : ''}`,
    );
  }
}

/** mkdir is atomic: one caller installs, the others wait. */
async function withLock(lock: string, work: () => void): Promise<void> {
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${lock}; remove it if no install is running`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
