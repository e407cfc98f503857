import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { recipeSchema } from '../../../lib/recipe/schema.js';

const docs = readFileSync(fileURLToPath(new URL('../../../docs/recipes.md', import.meta.url)), 'utf8');
const examples = [...docs.matchAll(/```yaml\n([\s\S]*?)```/g)]
  .map((m) => m[1] ?? '')
  .filter((yaml) => parse(yaml) !== null); // the modeline example is a comment only

/** A valid recipe; each documented fragment replaces the top-level fields it shows. */
const minimal = {
  name: 'web',
  base: { ssmParameter: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64' },
  builder: { instanceType: 't3.micro' },
  bootstrap: { script: 'echo hi' },
};

describe('the YAML examples in docs/recipes.md', () => {
  it('are found, so the check below covers them', () => {
    expect(examples.length).toBeGreaterThan(20);
  });

  it.each(examples.map((yaml, i) => ({ yaml, n: i + 1 })))(
    'are valid recipe fragments (example $n)',
    ({ yaml }) => {
      // Prepare
      const recipe = { ...minimal, ...(parse(yaml) as Record<string, unknown>) };

      // Act
      const parsed = recipeSchema.safeParse(recipe);

      // Assess
      expect(parsed.error?.issues ?? []).toEqual([]);
    },
  );
});
