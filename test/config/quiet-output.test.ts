import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

/**
 * vitest run with the repository's settings on a fixture with one passing and one failing test
 * that both log (test/fixtures/quiet): the output of `npm test` is the results alone, and a
 * failing test still shows what it logged.
 */
let output = '';
beforeAll(() => {
  // Without what the outer vitest set (its workers' variables and the config's env), so that the
  // inner run has only what the repository's settings give it.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(VITEST|TEST$|NODE_ENV$|POWERTOOLS_|AWS_SDK_JS_)/.test(k)),
  );
  const run = spawnSync(
    process.execPath,
    [
      'node_modules/vitest/vitest.mjs',
      'run',
      '--config',
      'test/fixtures/quiet/vitest.config.ts',
      '--no-color',
    ],
    { cwd: root, encoding: 'utf8', env: { ...env, NO_COLOR: '1' }, timeout: 60_000 },
  );
  output = `${run.stdout}${run.stderr}`;
  expect(output).toMatch(/1 failed \| 1 passed/);
});

describe('npm test prints the results alone', () => {
  it("a passing test's handler log lines and console output are not printed", () => {
    expect(output).not.toContain('of a passing test');
  });

  it("a failing test's handler log lines are printed with its failure", () => {
    expect(output).toContain('log line of a failing test');
  });

  it("the SDK's warning about the Node version is not printed", () => {
    expect(output).not.toContain('NodeVersionSupportWarning');
  });
});
