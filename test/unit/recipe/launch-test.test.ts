import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRecipe } from '../../../lib/recipe/load.js';

/** The recipe's `test` block (docs/recipes.md#test): what is refused, with which path, and how a file is read. */

const withTest = (test: unknown) => ({
  name: 'web',
  base: { imageId: 'ami-0123456789abcdef0' },
  builder: { instanceType: 't3.micro' },
  bootstrap: { script: 'echo hi' },
  test,
});

async function problems(test: unknown, dir = process.cwd()) {
  const result = await parseRecipe(withTest(test), dir);
  return result.ok ? [] : result.problems;
}

describe('the recipe test block', () => {
  it('takes a script with defaults: the builder type (no list) and 15 minutes', async () => {
    // Act
    const result = await parseRecipe(withTest({ script: 'curl -fsS http://localhost/' }), process.cwd());

    // Assess
    expect(result.ok && result.recipe.test).toEqual({
      script: 'curl -fsS http://localhost/',
      timeoutMinutes: 15,
    });
  });

  it('leaves a recipe without test as it was: no test key at all', async () => {
    // Act
    const result = await parseRecipe({ ...withTest(undefined), test: undefined }, process.cwd());

    // Assess
    expect(result.ok && 'test' in result.recipe).toBe(false);
  });

  it.each([
    [{}, 'test', 'exactly one of script or file'],
    [{ script: 'true', file: 't.sh' }, 'test', 'exactly one of script or file'],
    [{ script: 'true', instanceTypes: [] }, 'test.instanceTypes', 'at least one instance type'],
    [{ script: 'true', instanceTypes: ['t3.micro', 't3.micro'] }, 'test.instanceTypes.1', 'listed twice'],
    [{ script: 'true', instanceTypes: ['large'] }, 'test.instanceTypes.0', 'EC2 instance type'],
    [{ script: 'true', timeoutMinutes: 0 }, 'test.timeoutMinutes', ''],
    [{ script: 'true', platform: 'linux' }, 'test', 'platform'],
    [{ script: '#cloud-config\nruncmd: [true]\n' }, 'test.script', 'not a cloud-config'],
  ])('refuses %j at %s', async (test, path, message) => {
    // Act
    const found = await problems(test);

    // Assess
    expect(found).toContainEqual({ path, message: expect.stringContaining(message) });
  });

  it('takes instance types keyed by architecture, for a recipe that bakes several', async () => {
    // Act
    const found = await problems({
      script: 'true',
      instanceTypes: { x86_64: ['m7i.large'], arm64: ['m7g.large'] },
    });
    const twice = await problems({ script: 'true', instanceTypes: { arm64: ['m7g.large', 'm7g.large'] } });
    const unknown = await problems({ script: 'true', instanceTypes: { sparc: ['t3.micro'] } });

    // Assess
    expect(found).toEqual([]);
    expect(twice).toContainEqual({
      path: 'test.instanceTypes.arm64.1',
      message: expect.stringContaining('listed twice'),
    });
    expect(unknown.map((p) => p.path)).toContain('test.instanceTypes');
  });

  it('reads test.file from the recipe folder, and only from there', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'ami-bake-test-file-'));
    writeFileSync(join(dir, 'smoke.sh'), '#!/bin/bash\nsystemctl is-active nginx\n');

    // Act
    const read = await parseRecipe(withTest({ file: 'smoke.sh' }), dir);
    const outside = await problems({ file: '../smoke.sh' }, dir);

    // Assess
    expect(read.ok && read.recipe.test?.script).toBe('#!/bin/bash\nsystemctl is-active nginx\n');
    expect(read.ok && read.recipe.test && 'file' in read.recipe.test).toBe(false);
    expect(outside).toEqual([
      { path: 'test.file', message: expect.stringContaining("inside the recipe's folder") },
    ]);
  });

  it('refuses a test script over the user-data limit once wrapped', async () => {
    // Act
    const found = await problems({ script: `echo ${'x'.repeat(17000)}` });

    // Assess
    expect(found).toEqual([{ path: 'test.script', message: expect.stringContaining("over EC2's limit") }]);
  });
});
