import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRecipe } from '../../../lib/recipe/load.js';

const minimal = (bootstrap: Record<string, unknown>) => ({
  name: 'web',
  base: { imageId: 'ami-0123456789abcdef0' },
  builder: { instanceType: 't3.micro' },
  bootstrap,
});

describe('parseRecipe', () => {
  it('refuses cloud-config read from a file for a windows recipe, at bootstrap.file', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'ami-bake-load-'));
    writeFileSync(join(dir, 'cc.yml'), '#cloud-config\npackages: [nginx]\n');

    // Act
    const result = await parseRecipe(minimal({ platform: 'windows', file: 'cc.yml' }), dir);

    // Assess
    expect(result).toEqual({
      ok: false,
      problems: [{ path: 'bootstrap.file', message: expect.stringContaining('cloud-config is for linux') }],
    });
  });

  it.each([
    { platform: 'linux', script: 'echo a\u0000b' },
    { platform: 'windows', script: 'Write-Host hi\n</powershell>\n' },
  ])(
    'reports a script the wrapper cannot embed as a problem instead of throwing ($platform)',
    async (bootstrap) => {
      // Act
      const result = await parseRecipe(minimal(bootstrap), process.cwd());

      // Assess
      expect(result.ok).toBe(false);
      expect(result.ok === false && result.problems.map((p) => p.path)).toEqual(['bootstrap.script']);
    },
  );
});
