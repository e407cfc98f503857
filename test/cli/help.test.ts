import { describe, expect, it } from 'vitest';
import { cli, spawnCli } from './helpers.js';

const COMMANDS = ['validate', 'bake', 'start', 'status', 'watch', 'list', 'cancel', 'retire'];

describe('ami-bake --help', () => {
  it('lists every command, the exit codes and examples', async () => {
    // Act
    const { code, stdout } = await cli('--help');

    // Assess
    expect(code).toBe(0);
    for (const command of COMMANDS) expect(stdout).toMatch(new RegExp(`^  ${command} +\\S`, 'm'));
    expect(stdout).toMatch(
      /Exit codes: 0 success, 1 the bake failed, 2 bad input .* 3 AWS .*\n4 the bake's images .*not published/s,
    );
    expect(stdout).toMatch(/Examples:\n {2}ami-bake /);
  });

  it.each(COMMANDS)('documents %s with usage, exit codes and examples', async (command) => {
    // Act
    const { code, stdout, stderr } = await cli(command, '--help');

    // Assess
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toMatch(new RegExp(`Usage:\\n {2}ami-bake ${command}`));
    expect(stdout).toMatch(/Exit codes: 0 /);
    expect(stdout).toMatch(new RegExp(`Examples:\\n {2}ami-bake ${command}\\b`));
  });

  it('says in start --help that only the recipe name and overrides are sent, checked against the local catalog', async () => {
    // Act
    const { stdout } = await cli('start', '--help');

    // Assess
    expect(stdout).toContain("Only the recipe's NAME and the --set overrides are sent");
    expect(stdout).toContain('The local catalog (--recipes-dir, default recipes/) is read to check the');
  });

  it('exits 2 with the usage on stderr when no command is given', async () => {
    // Act
    const { code, stdout, stderr } = await cli();

    // Assess
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('Usage:');
  });

  it('exits 2 naming the commands for an unknown command', async () => {
    // Act
    const { code, stderr } = await cli('bakery');

    // Assess
    expect(code).toBe(2);
    expect(stderr).toContain(
      'unknown command "bakery"; commands: validate, bake, start, status, watch, list, cancel, retire',
    );
  });
});

describe('bin/ami-bake.mjs (the launcher)', () => {
  it('runs the CLI from a checkout and passes its exit code on', () => {
    // Act
    const help = spawnCli(['--help']);
    const bad = spawnCli(['validate', 'test/fixtures/cli/bad.yml']);

    // Assess
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage:\n  ami-bake <command>');
    expect(bad.code).toBe(2);
    expect(bad.stdout).toContain('test/fixtures/cli/bad.yml: 4 problems');
  });
});
