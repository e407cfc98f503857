import { describe, expect, it } from 'vitest';
import { recipeSchema } from '../../../lib/recipe/schema.js';
import { startRequestSchema } from '../../../lib/start/request.js';
import { executionInputSchema } from '../../../lib/state.js';

// Every edge that takes a recipe name must agree, or a recipe could be written that cannot be started.
const names = {
  'web-server': true,
  a: true,
  'a1-b2': true,
  [`a${'b'.repeat(38)}c`]: true,
  [`a${'b'.repeat(39)}c`]: false,
  '-web': false,
  'web-': false,
  Web: false,
  web_server: false,
  '': false,
};

const edges = {
  'a recipe file': (name: string) => recipeSchema.shape.name.safeParse(name).success,
  'a start request': (name: string) => startRequestSchema.shape.recipe.safeParse(name).success,
  'an execution input': (name: string) => executionInputSchema.shape.recipeName.safeParse(name).success,
};

describe('the recipe-name rule', () => {
  for (const [edge, accepts] of Object.entries(edges)) {
    it(`is the same for ${edge}: at most 40 lowercase letters, digits and inner dashes`, () => {
      const verdicts = Object.fromEntries(Object.keys(names).map((name) => [name, accepts(name)]));
      expect(verdicts).toEqual(names);
    });
  }
});
