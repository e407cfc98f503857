import { describe, expect, it } from 'vitest';
import { type RecipeInput, recipeSchema } from '../../../lib/recipe/schema.js';

/** A valid recipe to vary. */
const recipe = (overrides: Partial<RecipeInput> = {}): RecipeInput => ({
  name: 'web',
  base: { ssmParameter: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64' },
  builder: { instanceType: 't3.micro' },
  bootstrap: { script: '#!/bin/bash\necho hi\n' },
  ...overrides,
});

const problems = (r: RecipeInput) =>
  (recipeSchema.safeParse(r).error?.issues ?? []).map((i) => ({
    path: i.path.join('.'),
    message: i.message,
  }));

describe('distribution.ssmParameter', () => {
  it('accepts a name under /ami-bake/, with or without {architecture}', () => {
    for (const ssmParameter of ['/ami-bake/web/latest', '/ami-bake/web/{architecture}/latest']) {
      expect(problems(recipe({ distribution: { ssmParameter } }))).toEqual([]);
    }
  });

  it.each([
    ['/golden/web', 'must start with /ami-bake/: the stack may write parameters only under that path'],
    ['/ami-bake/web latest', 'may contain letters, digits and . - _ / plus {architecture}'],
    ['/ami-bake/web/{arch}', 'may contain letters, digits and . - _ / plus {architecture}'],
    ['/ami-bake//web', 'must not end with / or contain an empty level'],
    [`/ami-bake${'/x'.repeat(15)}`, 'SSM allows at most 15 levels in a parameter name'],
  ])('refuses %s, naming the field', (ssmParameter, message) => {
    expect(problems(recipe({ distribution: { ssmParameter } }))).toEqual([
      { path: 'distribution.ssmParameter', message },
    ]);
  });

  it('must contain {architecture} when the recipe bakes several architectures', () => {
    const several = {
      ...recipe({ distribution: { ssmParameter: '/ami-bake/web/latest' } }),
      architectures: ['x86_64', 'arm64'],
    };

    expect(problems(several as RecipeInput)).toContainEqual({
      path: 'distribution.ssmParameter',
      message:
        'must contain {architecture} when the recipe bakes several architectures: one parameter per architecture',
    });
  });
});

describe('distribution.launchTemplates', () => {
  it('accepts names EC2 accepts, each once', () => {
    expect(
      problems(
        recipe({
          distribution: {
            launchTemplates: [{ name: 'web-prod', setDefault: true }, { name: 'web(canary)' }],
          },
        }),
      ),
    ).toEqual([]);
  });

  it('refuses a name EC2 refuses and a template listed twice', () => {
    expect(
      problems(
        recipe({ distribution: { launchTemplates: [{ name: 'w' }, { name: 'web' }, { name: 'web' }] } }),
      ),
    ).toEqual([
      {
        path: 'distribution.launchTemplates.0.name',
        message: 'Too small: expected string to have >=3 characters',
      },
    ]);
    expect(
      problems(recipe({ distribution: { launchTemplates: [{ name: 'web' }, { name: 'web' }] } })),
    ).toEqual([{ path: 'distribution.launchTemplates.1.name', message: 'web is listed twice' }]);
  });
});

describe('distribution.launchPermissions.createVolumePermission', () => {
  it('needs accounts: EC2 has no create-volume permission for organizations or OUs', () => {
    const found = problems(
      recipe({
        builder: { instanceType: 't3.micro', volumes: { root: { encrypted: false } } },
        distribution: {
          launchPermissions: {
            organizations: ['arn:aws:organizations::123456789012:organization/o-abcdefghij'],
            createVolumePermission: true,
          },
        },
      }),
    );

    expect(found).toEqual([
      {
        path: 'distribution.launchPermissions.createVolumePermission',
        message:
          'needs accounts: EC2 grants create-volume permission on snapshots to accounts only, not to organizations or OUs',
      },
    ]);
  });
});

describe('image.deprecateAfterDays and image.deregistrationProtection', () => {
  it('accepts 1 to 3650 days (EC2: at most 10 years ahead) and protection', () => {
    expect(problems(recipe({ image: { deprecateAfterDays: 3650, deregistrationProtection: true } }))).toEqual(
      [],
    );
    expect(problems(recipe({ image: { deprecateAfterDays: 3651 } }))).toEqual([
      { path: 'image.deprecateAfterDays', message: 'Too big: expected number to be <=3650' },
    ]);
  });

  it('deprecates a public image at most 2 years after its creation, as EC2 requires', () => {
    const found = problems(
      recipe({
        builder: { instanceType: 't3.micro', volumes: { root: { encrypted: false } } },
        image: { deprecateAfterDays: 731 },
        distribution: { launchPermissions: { public: true } },
      }),
    );

    expect(found).toEqual([
      {
        path: 'image.deprecateAfterDays',
        message: 'EC2 deprecates public images at most 2 years (730 days) after they are created',
      },
    ]);
  });
});
