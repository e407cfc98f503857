import { describe, expect, it } from 'vitest';
import { type RecipeInput, recipeSchema } from '../../../lib/recipe/schema.js';

const recipe = (builder: Record<string, unknown>): RecipeInput => ({
  name: 'web',
  base: { ssmParameter: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64' },
  builder: builder as RecipeInput['builder'],
  bootstrap: { script: '#!/bin/bash\necho hi\n' },
});

const problems = (builder: Record<string, unknown>) =>
  (recipeSchema.safeParse(recipe(builder)).error?.issues ?? []).map((i) => ({
    path: i.path.join('.'),
    message: i.message,
  }));

describe('builder.requirements: sizing the builder by vCPUs and memory', () => {
  it('is an alternative to instanceType, with defaults for the rest', () => {
    // Act
    const parsed = recipeSchema.parse(
      recipe({ requirements: { vCpus: { min: 2 }, memoryGiB: { min: 4, max: 16 } } }),
    );

    // Assess
    expect(parsed.builder.instanceType).toBeUndefined();
    expect(parsed.builder.requirements).toEqual({
      vCpus: { min: 2 },
      memoryGiB: { min: 4, max: 16 },
      burstable: 'excluded',
      instanceGenerations: ['current'],
      maxCandidates: 5,
    });
  });

  it('needs exactly one of instanceType and requirements', () => {
    // Act
    const neither = problems({});
    const both = problems({
      instanceType: 't3.micro',
      requirements: { vCpus: { min: 2 }, memoryGiB: { min: 4 } },
    });

    // Assess
    expect(neither).toEqual([
      {
        path: 'builder.instanceType',
        message:
          'choose the builder with exactly one of instanceType (a type such as t3.micro) or requirements (vCpus and memoryGiB)',
      },
    ]);
    expect(both).toEqual([
      {
        path: 'builder.requirements',
        message: 'choose the builder with exactly one of instanceType or requirements, not both',
      },
    ]);
  });

  it.each([
    {
      mistake: 'a maximum below the minimum',
      requirements: { vCpus: { min: 4, max: 2 }, memoryGiB: { min: 4 } },
      path: 'builder.requirements.vCpus.max',
      message: 'must be at least min (vCPUs)',
    },
    {
      mistake: 'no memory',
      requirements: { vCpus: { min: 2 } },
      path: 'builder.requirements.memoryGiB',
      message: 'expected object',
    },
    {
      mistake: 'fractional vCPUs',
      requirements: { vCpus: { min: 1.5 }, memoryGiB: { min: 4 } },
      path: 'builder.requirements.vCpus.min',
      message: 'expected int',
    },
    {
      mistake: 'allowed and excluded types together (EC2 takes one)',
      requirements: {
        vCpus: { min: 2 },
        memoryGiB: { min: 4 },
        allowedInstanceTypes: ['m7i.*'],
        excludedInstanceTypes: ['t3*'],
      },
      path: 'builder.requirements.excludedInstanceTypes',
      message: 'give allowedInstanceTypes or excludedInstanceTypes, not both',
    },
    {
      mistake: 'a type pattern with a space',
      requirements: { vCpus: { min: 2 }, memoryGiB: { min: 4 }, allowedInstanceTypes: ['m7i large'] },
      path: 'builder.requirements.allowedInstanceTypes.0',
      message: 'must be an instance type or a pattern',
    },
    {
      mistake: 'more than 20 candidates',
      requirements: { vCpus: { min: 2 }, memoryGiB: { min: 4 }, maxCandidates: 21 },
      path: 'builder.requirements.maxCandidates',
      message: 'Too big',
    },
  ])('names the field for $mistake', ({ requirements, path, message }) => {
    // Act
    const found = problems({ requirements });

    // Assess
    expect(found).toEqual([{ path, message: expect.stringContaining(message) }]);
  });
});
