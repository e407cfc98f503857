import { describe, expect, it } from 'vitest';
import { useEmulator } from '../e2e/helpers.js';
import { spawnCli } from './helpers.js';

/** `ami-bake bake --local` is npm run bake: the same code (local/cli.ts), the same output and exit codes. */
describe('ami-bake bake --local', () => {
  const emulator = useEmulator();
  const env = () => ({ ...process.env, AWS_ENDPOINT_URL: emulator.endpoint() });

  it('bakes a recipe file against the emulator and prints the local bake result with --json', () => {
    // Act
    const { code, stdout, stderr } = spawnCli(
      ['bake', 'recipes/example.yml', '--local', '--json'],
      env(),
      120_000,
    );

    // Assess
    expect(code).toBe(0);
    expect(stderr).not.toMatch(/error/i);
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({ status: 'succeeded', recipe: 'example-web', bakeId: expect.any(String) });
    expect(Object.keys(result.images).sort()).toEqual(['ap-southeast-2', 'eu-west-1', 'us-east-1']);
  });

  it('exits 1 and names the failed stage when the bootstrap fails', () => {
    // Act
    const { code, stdout } = spawnCli(
      ['bake', 'recipes/example.yml', '--local', '--simulate-bootstrap-failure'],
      env(),
      120_000,
    );

    // Assess
    expect(code).toBe(1);
    expect(stdout).toMatch(/✗ WaitForBuilder/);
    expect(stdout).toMatch(/Bake \S+ FAILED at WaitForBuilder: BootstrapFailedError/);
  });

  it('exits 2 with every problem of an invalid recipe, creating nothing', () => {
    // Act
    const { code, stdout, stderr } = spawnCli(['bake', 'test/fixtures/cli/bad.yml', '--local'], env());

    // Assess
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.startsWith('test/fixtures/cli/bad.yml: 4 problems\n')).toBe(true);
    expect(stderr).toContain('builder: unknown field colour');
  });
});
