import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './helpers.js';

describe('ami-bake validate', () => {
  it('validates every recipe of the catalog when given no files', async () => {
    // Act
    const { code, stdout } = await cli('validate');

    // Assess
    expect(code).toBe(0);
    expect(stdout).toContain('✓ recipes/example.yml  example-web\n');
    expect(stdout).toMatch(/\d+ recipes valid/);
  });

  it('lists every problem of a bad recipe with its path and exits 2', async () => {
    // Act
    const { code, stdout } = await cli('validate', 'test/fixtures/cli/bad.yml', 'recipes/example.yml');

    // Assess
    expect(code).toBe(2);
    expect(stdout).toContain('✗ test/fixtures/cli/bad.yml: 4 problems\n');
    expect(stdout).toContain('  base: choose exactly one base selector, not imageId and ssmParameter\n');
    expect(stdout).toContain('  builder: unknown field colour\n');
    expect(stdout).toContain('  distribution.regions.1: unknown AWS region "mars-north-1"\n');
    expect(stdout).toContain('✓ recipes/example.yml  example-web');
    expect(stdout).toContain('1 of 2 recipes invalid');
  });

  it('prints one JSON document with each file, its name or its problems, with --json', async () => {
    // Act
    const { code, stdout, stderr } = await cli(
      'validate',
      'recipes/example.yml',
      'test/fixtures/recipes/invalid/unknown-region.yml',
      '--json',
    );

    // Assess
    expect(code).toBe(2);
    expect(stderr).toBe('');
    expect(JSON.parse(stdout)).toEqual({
      status: 'invalid',
      recipes: [
        { file: 'recipes/example.yml', valid: true, name: 'example-web', problems: [] },
        {
          file: 'test/fixtures/recipes/invalid/unknown-region.yml',
          valid: false,
          problems: [{ path: expect.stringMatching(/^distribution\.regions/), message: expect.any(String) }],
        },
      ],
    });
  });

  it('reports two recipes of the catalog with the same name', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'ami-bake-catalog-'));
    const recipe = (name: string) =>
      `name: ${name}\nbase: { imageId: ami-0123456789abcdef0 }\nbuilder: { instanceType: t3.micro }\nbootstrap: { script: 'echo hi' }\n`;
    writeFileSync(join(dir, 'a.yml'), recipe('twin'));
    writeFileSync(join(dir, 'b.yml'), recipe('twin'));

    // Act
    const { code, stdout } = await cli('validate', '--recipes-dir', dir, '--json');

    // Assess
    expect(code).toBe(2);
    const result = JSON.parse(stdout);
    expect(result.recipes[0]).toMatchObject({ valid: true, name: 'twin' });
    expect(result.recipes[1]).toMatchObject({
      valid: false,
      problems: [{ path: 'name', message: `recipe twin is already defined in ${join(dir, 'a.yml')}` }],
    });
  });

  it('exits 2 for a file that cannot be read', async () => {
    // Act
    const { code, stdout } = await cli('validate', 'recipes/missing.yml');

    // Assess
    expect(code).toBe(2);
    expect(stdout).toContain('(file): cannot read recipes/missing.yml');
  });

  it('exits 2 for a catalog directory without recipes', async () => {
    // Act
    const { code, stderr } = await cli('validate', '--recipes-dir', mkdtempSync(join(tmpdir(), 'empty-')));

    // Assess
    expect(code).toBe(2);
    expect(stderr).toMatch(/no recipes \(\*\.yml\) in /);
  });
});
