import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The template checkers (cfn-lint, checkov), pinned in local/tools-requirements.txt and installed
 * into a project-local virtualenv on first use, as local/emulator.ts installs moto: a clean clone,
 * and CI, install them itself. Their own venv: checkov pins many libraries moto must not share.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const requirements = join(root, 'local', 'tools-requirements.txt');
export const toolsVenvDir = process.env.AMI_BAKE_TOOLS_VENV ?? join(root, '.venv-tools');
const stamp = join(toolsVenvDir, '.ami-bake-requirements');

export type Tool = 'cfn-lint' | 'checkov';

/** The path of a pinned tool's executable, installing the tools first if needed. */
export async function ensureTool(tool: Tool, log: (line: string) => void = () => {}): Promise<string> {
  const bin = join(toolsVenvDir, 'bin', tool);
  const wanted = createHash('sha256').update(readFileSync(requirements)).digest('hex');
  const ready = () => existsSync(bin) && existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted;
  if (ready()) return bin;
  await withLock(`${toolsVenvDir}.lock`, () => {
    if (ready()) return;
    log(`installing the template checkers into ${toolsVenvDir} (first run only, a few minutes)`);
    const python = process.env.PYTHON ?? 'python3';
    run(python, ['-m', 'venv', toolsVenvDir]);
    run(join(toolsVenvDir, 'bin', 'python'), [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      '-r',
      requirements,
    ]);
    writeFileSync(stamp, wanted);
  });
  return bin;
}

function run(command: string, args: string[]) {
  const result = spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`}); is python3 with venv installed?`,
    );
  }
}

/** Several test files may ask at once: one installs, the others wait (mkdir is atomic). */
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
