import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * bin/ami-bake.mjs and npm run bake run the bundle in dist/ with plain node, and never stale code.
 * These tests build into their own folder (AMI_BAKE_DIST), so the shared dist/ is not rebuilt
 * under the feet of the other test files.
 */
const dist = `.dist-test-${randomUUID().slice(0, 8)}`;
const env = { ...process.env, AMI_BAKE_DIST: dist };
const manifest = () =>
  JSON.parse(readFileSync(`${dist}/ami-bake.json`, 'utf8')) as { entry: string; builtAt: number };
const launch = (...args: string[]) =>
  spawnSync(process.execPath, ['bin/ami-bake.mjs', ...args], { encoding: 'utf8', env, timeout: 120_000 });

describe('the prebuilt CLI', () => {
  afterAll(() => rmSync(dist, { recursive: true, force: true }));

  it('is built on first use and run with plain node: no TypeScript compiled at run time', () => {
    // Act
    const { status, stdout } = launch('--help');

    // Assess
    expect(status).toBe(0);
    expect(stdout).toContain('Usage:\n  ami-bake <command>');
    expect(manifest().entry).toMatch(/^ami-bake-\w+\.js$/);
    expect(readFileSync('bin/ami-bake.mjs', 'utf8')).not.toMatch(/from 'tsx|import\('tsx/);
  });

  it('is rebuilt before it runs when a source is newer than the build', () => {
    // Arrange: a build from before every source was saved
    launch('--help');
    writeFileSync(`${dist}/ami-bake.json`, JSON.stringify({ ...manifest(), builtAt: 0 }));
    const before = Date.now();

    // Act
    const { status, stdout } = launch('--help');

    // Assess
    expect(status).toBe(0);
    expect(stdout).toContain('Usage:\n  ami-bake <command>');
    expect(manifest().builtAt).toBeGreaterThanOrEqual(before);
  });

  it('is not rebuilt when nothing changed', () => {
    // Arrange
    launch('--help');
    const built = manifest().builtAt;

    // Act
    launch('--help');

    // Assess
    expect(manifest().builtAt).toBe(built);
  });
});
