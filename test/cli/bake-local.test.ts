import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { useEmulator } from '../e2e/helpers.js';
import { cli } from './helpers.js';

/**
 * `ami-bake bake --local` and `npm run bake` are one command (cli/commands/bake.ts), run here
 * in-process on the CLI's Io: the same output and exit codes from both front ends.
 */
describe('ami-bake bake --local', () => {
  useEmulator();

  it('bakes a recipe file against the emulator and prints the local bake result with --json', async () => {
    // Act
    const { code, stdout, stderr } = await cli('bake', 'recipes/example.yml', '--local', '--json');

    // Assess
    expect(code).toBe(0);
    expect(stderr).not.toMatch(/error/i);
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({ status: 'succeeded', recipe: 'example-web', bakeId: expect.any(String) });
    expect(Object.keys(result.images).sort()).toEqual(['ap-southeast-2', 'eu-west-1', 'us-east-1']);
  });

  it('exits 1 and names the failed stage when the bootstrap fails', async () => {
    // Act
    const { code, stdout } = await cli(
      'bake',
      'recipes/example.yml',
      '--local',
      '--simulate-bootstrap-failure',
    );

    // Assess
    expect(code).toBe(1);
    expect(stdout).toMatch(/✗ WaitForBuilder/);
    expect(stdout).toMatch(/Bake \S+ FAILED at WaitForBuilder: BootstrapFailedError/);
  });

  it('exits 1 and names TestImage and the instance type when a test instance fails (--simulate-test-failure)', async () => {
    // Act
    const { code, stdout } = await cli(
      'bake',
      'test/fixtures/cli/tested.yml',
      '--local',
      '--simulate-test-failure',
    );

    // Assess
    expect(code).toBe(1);
    expect(stdout).toMatch(/✓ LaunchTest (t3\.small|m5\.large)/);
    expect(stdout).toMatch(
      /Bake \S+ FAILED at TestImage: TestFailedError: test script exited with code 1 on test instance i-\w+ \((t3\.small|m5\.large)\)/,
    );
  });

  it('exits 2 with every problem of an invalid recipe, creating nothing', async () => {
    // Act
    const { code, stdout, stderr } = await cli('bake', 'test/fixtures/cli/bad.yml', '--local');

    // Assess
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.startsWith('test/fixtures/cli/bad.yml: 4 problems\n')).toBe(true);
    expect(stderr).toContain('builder: unknown field colour');
  });

  it.each([
    ['an unknown option', ['--frobnicate'], /Unknown option '--frobnicate'/],
    ['an unknown region', ['--region', 'moon-1'], /unknown AWS region "moon-1"/],
    ['two recipes', ['recipes/example.yml'], /give exactly one recipe file/],
    ['--bootstrap-minutes without --rehearse', ['--bootstrap-minutes', '3'], /needs --rehearse/],
  ])(
    'answers %s as every command answers a bad argument: exit 2, one line, no stack trace',
    async (_, args, message) => {
      // Act
      const { code, stdout, stderr } = await cli('bake', 'recipes/example.yml', '--local', ...args);

      // Assess
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toMatch(message);
      expect(stderr).toMatch(/^ami-bake bake: .*\(ami-bake bake --help\)\n$/);
      expect(stderr).not.toMatch(/^\s+at /m);
    },
  );
});

describe('npm run bake', () => {
  it('is ami-bake bake --local: the same help, from the prebuilt CLI', () => {
    // Act
    const npm = spawnSync('npm', ['run', '--silent', 'bake', '--', '--help'], { encoding: 'utf8' });

    // Assess
    expect(npm.status).toBe(0);
    expect(npm.stdout).toMatch(
      /Usage:\n {2}ami-bake bake <recipe.yml> --local \[options\]\n {2}npm run bake -- <recipe.yml>/,
    );
    expect(npm.stdout).toContain('--simulate-bootstrap-failure');
    expect(npm.stdout).toMatch(/Exit codes: 0 .* 1 .* 2 bad input/);
  });
});
