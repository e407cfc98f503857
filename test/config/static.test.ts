import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** The compiler and the linter are part of the suite, so CI keeps main type-correct and lint-clean. */
describe('static checks', () => {
  function run(args: string[]) {
    const r = spawnSync('npx', args, { encoding: 'utf8', timeout: 120_000 });
    return { code: r.status, output: `${r.stdout}\n${r.stderr}` };
  }

  it('type-checks with tsc --noEmit (strict)', () => {
    const { code, output } = run(['tsc', '--noEmit', '-p', '.']);
    expect(code, output).toBe(0);
  });

  it('passes biome check (lint and format)', () => {
    const { code, output } = run(['biome', 'check', '.']);
    expect(code, output).toBe(0);
  });
});
