import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * local/venv.ts installs the emulator and the template checkers on first use, inside a test run
 * (CI starts from a clean clone): what python and pip print stays out of `npm test`'s output,
 * unless the install fails, when the error carries it.
 */

/** A stand-in for python3: prints to stdout and stderr, makes the venv's python, exits `status`. */
function fakePython(status: number) {
  const dir = mkdtempSync(join(tmpdir(), 'ami-bake-venv-'));
  const python = join(dir, 'python3');
  writeFileSync(
    python,
    `#!/bin/sh
echo "python says $2"
echo "python warns about $2" >&2
if [ "$2" = venv ]; then mkdir -p "$3/bin" && cp "$0" "$3/bin/python"; fi
exit ${status}
`,
  );
  chmodSync(python, 0o755);
  writeFileSync(join(dir, 'requirements.txt'), 'moto==0\n');
  return { dir, python };
}

/** ensureVenv run in a child process, as the test run does it: what reaches its stdout and stderr. */
function install(status: number) {
  const { dir, python } = fakePython(status);
  const venv = pathToFileURL(join(import.meta.dirname, '..', '..', 'local', 'venv.ts')).href;
  const script = `const { ensureVenv } = await import(${JSON.stringify(venv)});
await ensureVenv({ dir: ${JSON.stringify(join(dir, 'venv'))}, requirements: ${JSON.stringify(join(dir, 'requirements.txt'))}, what: 'nothing' })
  .catch((e) => { console.log('ERROR ' + e.message); });`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, PYTHON: python },
    timeout: 60_000,
  });
  return { stdout: r.stdout, stderr: r.stderr };
}

describe('installing a pinned virtualenv', () => {
  it('prints nothing of what python and pip print when the install succeeds', () => {
    expect(install(0)).toEqual({ stdout: '', stderr: '' });
  });

  it('names the failed command with the end of what it printed', () => {
    // Act
    const { stdout, stderr } = install(1);

    // Assess
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^ERROR .*python3 -m venv .* failed \(exit 1\)/);
    expect(stdout).toContain('python says venv');
    expect(stdout).toContain('python warns about venv');
  });
});
