import { describe, expect, it } from 'vitest';
import { recipeHash } from '../../../lib/recipe/hash.js';
import { type RecipeInput, recipeSchema } from '../../../lib/recipe/schema.js';

const recipe = (builder: Record<string, unknown>): RecipeInput => ({
  name: 'web',
  base: { ssmParameter: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64' },
  builder: { instanceType: 'm7i.large', ...builder } as RecipeInput['builder'],
  bootstrap: { script: '#!/bin/bash\necho hi\n' },
});

const problems = (builder: Record<string, unknown>) =>
  (recipeSchema.safeParse(recipe(builder)).error?.issues ?? []).map((i) => ({
    path: i.path.join('.'),
    message: i.message,
  }));

describe('builder.spot: Spot builders with on-demand fallback', () => {
  it('falls back to on-demand by default, and leaves the maximum price to EC2', () => {
    // Act
    const parsed = recipeSchema.parse(recipe({ spot: {} }));

    // Assess
    expect(parsed.builder.spot).toEqual({ fallbackToOnDemand: true });
  });

  it('takes a maximum price in dollars per hour, and Spot only', () => {
    // Act
    const parsed = recipeSchema.parse(recipe({ spot: { fallbackToOnDemand: false, maxPrice: '0.05' } }));

    // Assess
    expect(parsed.builder.spot).toEqual({ fallbackToOnDemand: false, maxPrice: '0.05' });
  });

  it('is absent, and the recipe hash unchanged, for a recipe that does not ask for Spot', () => {
    // Act
    const parsed = recipeSchema.parse(recipe({}));

    // Assess
    expect(parsed.builder.spot).toBeUndefined();
    expect(recipeHash(parsed)).toBe(recipeHash(recipeSchema.parse(recipe({}))));
    expect('spot' in parsed.builder).toBe(false);
  });

  it.each([
    {
      spot: { maxPrice: 0.05 },
      path: 'builder.spot.maxPrice',
      message: 'Invalid input: expected string, received number',
    },
    {
      spot: { maxPrice: '$0.05' },
      path: 'builder.spot.maxPrice',
      message: 'must be a price per hour in US dollars, such as "0.05"',
    },
    { spot: { maxPrice: '0' }, path: 'builder.spot.maxPrice', message: 'must be more than 0' },
    {
      spot: { fallbackToOnDemand: 'yes' },
      path: 'builder.spot.fallbackToOnDemand',
      message: 'must be true or false',
    },
    { spot: { market: 'spot' }, path: 'builder.spot', message: 'Unrecognized key: "market"' },
  ])('names the field and the problem: $path $message', ({ spot, path, message }) => {
    // Act / Assess
    expect(problems({ spot })).toEqual([{ path, message }]);
  });
});
