import { describe, expect, it } from 'vitest';
import { childBakeId, forArchitecture } from '../../../lib/recipe/architectures.js';
import { type RecipeInput, recipeSchema } from '../../../lib/recipe/schema.js';
import { bakeIdSchema } from '../../../lib/state.js';

const PARAMETER = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{architecture}';

const recipe = (fields: Record<string, unknown>): RecipeInput =>
  ({
    name: 'web',
    base: { ssmParameter: PARAMETER },
    builder: { instanceType: { x86_64: 't3.micro', arm64: 't4g.micro' } },
    bootstrap: { script: '#!/bin/bash\necho hi\n' },
    architectures: ['x86_64', 'arm64'],
    ...fields,
  }) as RecipeInput;

const problems = (fields: Record<string, unknown>) =>
  (recipeSchema.safeParse(recipe(fields)).error?.issues ?? []).map((i) => ({
    path: i.path.join('.'),
    message: i.message,
  }));

describe('recipe architectures', () => {
  it('accepts two architectures with a parameter per architecture and a type per architecture', () => {
    // Act
    const parsed = recipeSchema.parse(recipe({}));

    // Assess
    expect(parsed.architectures).toEqual(['x86_64', 'arm64']);
    expect(parsed.builder.instanceType).toEqual({ x86_64: 't3.micro', arm64: 't4g.micro' });
  });

  it('keeps a recipe without architectures as it was: one architecture, the base image one', () => {
    // Act
    const parsed = recipeSchema.parse(
      recipe({
        architectures: undefined,
        base: { imageId: 'ami-0123456789abcdef0' },
        builder: { instanceType: 't3.micro' },
      }),
    );

    // Assess
    expect(parsed.architectures).toBeUndefined();
  });

  it.each([
    [
      'one image id for two architectures',
      { base: { imageId: 'ami-0123456789abcdef0' } },
      'base.imageId',
      /names one image, of one architecture/,
    ],
    [
      'a parameter without {architecture}',
      { base: { ssmParameter: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64' } },
      'base.ssmParameter',
      /put \{architecture\} in it/,
    ],
    [
      'a filter pinned to one architecture',
      { base: { filter: { owners: ['amazon'], name: 'al2023-ami-*', architecture: 'x86_64' } } },
      'base.filter.architecture',
      /leave it out/,
    ],
    [
      'one instance type for two architectures',
      { builder: { instanceType: 't3.micro' } },
      'builder.instanceType',
      /one per architecture/,
    ],
    [
      'no instance type for a listed architecture',
      { builder: { instanceType: { x86_64: 't3.micro' } } },
      'builder.instanceType.arm64',
      /name its instance type/,
    ],
    [
      'an instance type for an architecture not listed',
      { architectures: ['x86_64'], builder: { instanceType: { x86_64: 't3.micro', arm64: 't4g.micro' } } },
      'builder.instanceType.arm64',
      /not in architectures/,
    ],
    [
      'an architecture listed twice',
      { architectures: ['arm64', 'arm64'] },
      'architectures.1',
      /listed twice/,
    ],
    ['an unknown architecture', { architectures: ['sparc'] }, 'architectures.0', /x86_64|arm64/],
    [
      '{architecture} without architectures',
      { architectures: undefined, builder: { instanceType: 't3.micro' } },
      'base.ssmParameter',
      /needs architectures/,
    ],
  ])('refuses %s, naming the field', (_, fields, path, message) => {
    // Act
    const found = problems(fields);

    // Assess
    expect(found).toContainEqual({ path, message: expect.stringMatching(message) });
  });

  it('gives each architecture its own parameter and builder type, and a recipe that still validates', () => {
    // Prepare
    const parsed = recipeSchema.parse(recipe({}));

    // Act
    const arm = forArchitecture(parsed, 'arm64');

    // Assess
    expect(arm.base.ssmParameter).toBe(
      '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64',
    );
    expect(arm.builder.instanceType).toBe('t4g.micro');
    expect(arm.architectures).toEqual(['arm64']);
    expect(recipeSchema.safeParse(arm).success).toBe(true);
  });

  it('narrows a filter to the architecture of the bake', () => {
    // Prepare
    const parsed = recipeSchema.parse(
      recipe({ base: { filter: { owners: ['amazon'], name: 'al2023-ami-*' } } }),
    );

    // Act & Assess
    expect(forArchitecture(parsed, 'arm64').base.filter?.architecture).toBe('arm64');
  });

  it('names each child after its request, within the 80 characters of a bake id and an execution name', () => {
    // Prepare
    const long = `bake-${'a'.repeat(75)}`;
    const alike = `bake-${'a'.repeat(74)}b`;

    // Act
    const children = [
      childBakeId('bake-0001', 'arm64'),
      childBakeId(long, 'x86_64'),
      childBakeId(alike, 'x86_64'),
    ];

    // Assess
    expect(children[0]).toBe('bake-0001-arm64');
    for (const id of children) expect(bakeIdSchema.safeParse(id).success, id).toBe(true);
    expect(children[1]).toMatch(/-x86_64$/);
    expect(children[1]).not.toBe(children[2]);
  });
});
