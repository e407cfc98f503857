import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { spawnCli } from './helpers.js';

/** Port 9 (discard) has nothing listening: every AWS call fails, as with an emulator that is down. */
const UNREACHABLE = { ...process.env, AWS_ENDPOINT_URL: 'http://127.0.0.1:9' };

function npmRunBake(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'local/cli.ts', ...args], {
    encoding: 'utf8',
    env: UNREACHABLE,
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('an unexpected error during a local bake (the emulator unreachable)', () => {
  it('answers npm run bake --json with one JSON error object on stdout and exits 3', () => {
    // Act
    const { code, stdout } = npmRunBake('recipes/example.yml', '--json');

    // Assess
    expect(code).toBe(3);
    expect(JSON.parse(stdout)).toEqual({
      status: 'error',
      error: { name: expect.any(String), message: expect.any(String) },
    });
  });

  it('answers ami-bake bake --local --json with the same JSON error object', () => {
    // Act
    const { code, stdout } = spawnCli(['bake', 'recipes/example.yml', '--local', '--json'], UNREACHABLE);

    // Assess
    expect(code).toBe(3);
    expect(JSON.parse(stdout)).toMatchObject({ status: 'error', error: { name: expect.any(String) } });
  });

  it('prints one line naming the error, and no stack trace, without --json', () => {
    // Act
    const { code, stderr } = npmRunBake('recipes/example.yml');

    // Assess
    expect(code).toBe(3);
    const errorLines = stderr.split('\n').filter((l) => l.startsWith('ami-bake:'));
    expect(errorLines).toHaveLength(1);
    expect(stderr).not.toMatch(/^\s+at /m);
  });
});
