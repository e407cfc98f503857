import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { loadRecipeFile, MAX_NESTING_DEPTH, parseRecipe } from '../../../lib/recipe/load.js';

const RECIPE_HEAD = `name: web
base: { imageId: ami-0123456789abcdef0 }
builder: { instanceType: t3.micro }
`;

/** A folder holding a recipe file with this text, and `secret.txt` one folder above the recipe. */
function recipeDir(text: string, files: Record<string, string> = {}) {
  const root = mkdtempSync(join(tmpdir(), 'ami-bake-hostile-'));
  const dir = join(root, 'recipes');
  mkdirSync(join(dir, 'scripts'), { recursive: true });
  writeFileSync(join(root, 'secret.txt'), 'the secret\n');
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  writeFileSync(join(dir, 'recipe.yml'), text);
  return { root, dir, file: join(dir, 'recipe.yml') };
}

const LAUGHS = `${RECIPE_HEAD}bootstrap: { script: echo hi }
image:
  tags:
    a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
    b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
    c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
    d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
    e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
    f: [*e,*e,*e,*e,*e,*e,*e,*e,*e]
`;

const nestedPattern = (depth: number) =>
  `${RECIPE_HEAD}bootstrap: { script: echo hi }
triggers:
  - name: deep
    pattern:
      detail: ${'{a: '.repeat(depth)}[1]${'}'.repeat(depth)}
`;

describe('loadRecipeFile with hostile YAML', () => {
  it('answers a YAML alias bomb ("billion laughs") with a problem instead of throwing', async () => {
    // Prepare
    const { file } = recipeDir(LAUGHS);

    // Act
    const result = await loadRecipeFile(file);

    // Assess
    expect(result).toEqual({
      ok: false,
      problems: [{ path: '(yaml)', message: expect.stringMatching(/alias/) }],
    });
  });

  it.each([100, 2_000, 20_000])(
    'answers a pattern nested %i levels deep with a problem naming the field',
    async (depth) => {
      // Prepare
      const { file } = recipeDir(nestedPattern(depth));

      // Act
      const result = await loadRecipeFile(file);

      // Assess
      expect(result.ok).toBe(false);
      expect(result.ok === false && result.problems).toContainEqual({
        path: expect.stringMatching(/^(triggers\.0\.pattern\.detail|\(yaml\))/),
        message: expect.stringContaining(`nested deeper than ${MAX_NESTING_DEPTH} levels`),
      });
    },
  );

  it('answers a mapping used as a key with a problem, not a warning on stderr', async () => {
    // Prepare
    const { file } = recipeDir(`${RECIPE_HEAD}bootstrap: { script: echo hi }\n? { name: web }\n: x\n`);
    const warnings: unknown[] = [];
    const spy = vi.spyOn(process, 'emitWarning').mockImplementation((w) => void warnings.push(w));

    // Act
    const result = await loadRecipeFile(file).finally(() => spy.mockRestore());

    // Assess
    expect(warnings).toEqual([]);
    expect(result).toEqual({
      ok: false,
      problems: [{ path: '(root)', message: expect.stringContaining('{ name: web }') }],
    });
  });
});

describe('parseRecipe with hostile values', () => {
  it('answers an object nested 100,000 levels deep with a problem naming the field', async () => {
    // Prepare
    let detail: unknown = [1];
    for (let i = 0; i < 100_000; i += 1) detail = { a: detail };
    const raw = {
      name: 'web',
      base: { imageId: 'ami-0123456789abcdef0' },
      builder: { instanceType: 't3.micro' },
      bootstrap: { script: 'echo hi' },
      triggers: [{ name: 'deep', pattern: { detail } }],
    };

    // Act
    const result = await parseRecipe(raw, process.cwd());

    // Assess
    expect(result).toEqual({
      ok: false,
      problems: [
        {
          path: expect.stringMatching(/^triggers\.0\.pattern\.detail(\.a)+$/),
          message: `nested deeper than ${MAX_NESTING_DEPTH} levels`,
        },
      ],
    });
  });
});

describe('bootstrap.file is confined to the recipe folder', () => {
  it('reads a file in a folder below the recipe', async () => {
    // Prepare
    const { dir, file } = recipeDir(`${RECIPE_HEAD}bootstrap: { file: scripts/run.sh }\n`);
    writeFileSync(join(dir, 'scripts', 'run.sh'), 'echo inside\n');

    // Act
    const result = await loadRecipeFile(file);

    // Assess
    expect(result.ok && result.recipe.bootstrap.script).toBe('echo inside\n');
  });

  it.each([
    { name: 'a .. escape', path: '../secret.txt' },
    { name: 'a .. escape through a subfolder', path: 'scripts/../../secret.txt' },
    { name: 'an absolute path', path: '/etc/hostname' },
  ])('refuses $name without reading it', async ({ path }) => {
    // Prepare
    const { file } = recipeDir(`${RECIPE_HEAD}bootstrap: { file: "${path}" }\n`);

    // Act
    const result = await loadRecipeFile(file);

    // Assess
    expect(result).toEqual({
      ok: false,
      problems: [{ path: 'bootstrap.file', message: expect.stringMatching(/recipe's folder/) }],
    });
  });

  it('refuses a symlink inside the folder that leads out of it', async () => {
    // Prepare
    const { root, dir, file } = recipeDir(`${RECIPE_HEAD}bootstrap: { file: scripts/link.sh }\n`);
    symlinkSync(join(root, 'secret.txt'), join(dir, 'scripts', 'link.sh'));

    // Act
    const result = await loadRecipeFile(file);

    // Assess
    expect(result).toEqual({
      ok: false,
      problems: [{ path: 'bootstrap.file', message: expect.stringMatching(/recipe's folder/) }],
    });
  });
});
