import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { startBakeInputSchema, toStartRequest } from '../../../functions/start-bake/core.js';
import { RecipeInvalidError, RecipeNotFoundError } from '../../../lib/errors.js';
import { problemsOf } from '../../../lib/problems.js';
import { startBake } from '../../../lib/start/start-bake.js';
import { api, CATALOG } from '../api/fixtures.js';
import { anyValue, expectProblemList, fuzzParams } from './problems.js';

const RECIPES = CATALOG.map((c) => c.recipe.name);

/** *Bake Requested* details near the real shape, and anything at all. */
const detail = fc.oneof(
  fc.record(
    {
      recipe: fc.oneof(fc.constantFrom(...RECIPES), anyValue),
      overrides: anyValue,
      reason: anyValue,
      idempotencyKey: anyValue,
      force: anyValue,
    },
    { requiredKeys: ['recipe'] },
  ),
  anyValue,
);

describe('Bake Requested details, property-based', () => {
  it('answers any detail with a started bake or problems naming the field, never a crash', async () => {
    const { deps } = api();
    await fc.assert(
      fc.asyncProperty(detail, fc.string({ maxLength: 30 }), async (d, source) => {
        const event = { 'detail-type': 'Bake Requested', source, detail: d };
        const parsed = startBakeInputSchema.safeParse(event);
        if (!parsed.success) {
          expectProblemList(problemsOf(parsed.error.issues));
          return;
        }
        if ('Records' in parsed.data) throw new Error('a Bake Requested event parsed as an SNS message');
        try {
          const result = await startBake(toStartRequest(parsed.data), deps.start);
          // Started: only a catalog recipe, with overrides the recipe's policy accepted.
          expect(RECIPES).toContain(result.recipe);
          expect(result.recipe).toBe((d as { recipe: unknown }).recipe);
        } catch (error) {
          if (error instanceof RecipeInvalidError) expectProblemList(error.problems);
          else expect(error).toBeInstanceOf(RecipeNotFoundError);
        }
      }),
      fuzzParams(2_000),
    );
  });
});
