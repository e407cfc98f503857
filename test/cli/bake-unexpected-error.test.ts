import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cli } from './helpers.js';

/** Port 9 (discard) has nothing listening: every AWS call fails, as with an emulator that is down. */
const UNREACHABLE = 'http://127.0.0.1:9';

describe('an unexpected error during a local bake (the emulator unreachable)', () => {
  it('answers npm run bake --json with one JSON error object on stdout and exits 3', () => {
    // Act
    const r = spawnSync('npm', ['run', '--silent', 'bake', '--', 'recipes/example.yml', '--json'], {
      encoding: 'utf8',
      env: { ...process.env, AWS_ENDPOINT_URL: UNREACHABLE },
      timeout: 60_000,
    });

    // Assess
    expect(r.status).toBe(3);
    expect(JSON.parse(r.stdout)).toEqual({
      status: 'error',
      error: { name: expect.any(String), message: expect.any(String) },
    });
  });

  it('prints one line naming the error, and no stack trace, without --json', async () => {
    // Arrange
    process.env.AWS_ENDPOINT_URL = UNREACHABLE;

    // Act
    const { code, stderr } = await cli('bake', 'recipes/example.yml', '--local');

    // Assess
    expect(code).toBe(3);
    const errorLines = stderr.split('\n').filter((l) => l.startsWith('ami-bake:'));
    expect(errorLines).toHaveLength(1);
    expect(stderr).not.toMatch(/^\s+at /m);
  });
});
