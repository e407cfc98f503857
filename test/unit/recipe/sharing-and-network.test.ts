import { describe, expect, it } from 'vitest';
import { type RecipeInput, recipeSchema } from '../../../lib/recipe/schema.js';

/** A valid recipe to vary: built in the stack's region, copied to two more. */
const recipe = (overrides: Partial<RecipeInput> = {}): RecipeInput => ({
  name: 'web',
  base: { ssmParameter: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64' },
  builder: { instanceType: 't3.micro' },
  bootstrap: { script: '#!/bin/bash\necho hi\n' },
  ...overrides,
});

const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2'] as const;
const ALL_KEYS = {
  'us-east-1': 'alias/ami-bake',
  'eu-west-1': 'alias/ami-bake',
  'ap-southeast-2': 'alias/ami-bake',
};
const SHARED_WITH = {
  accounts: { accounts: ['111122223333'] },
  organizations: { organizations: ['arn:aws:organizations::123456789012:organization/o-abcdefghij'] },
  organizationalUnits: {
    organizationalUnits: ['arn:aws:organizations::123456789012:ou/o-abcdefghij/ou-ab12-abcdefgh'],
  },
};

const problems = (r: RecipeInput) =>
  (recipeSchema.safeParse(r).error?.issues ?? []).map((i) => ({
    path: i.path.join('.'),
    message: i.message,
  }));

describe('sharing an encrypted image with other accounts', () => {
  it.each(Object.entries(SHARED_WITH))(
    'needs a customer-managed key for every distribution region when shared with %s',
    (_, launchPermissions) => {
      // Act
      const found = problems(
        recipe({
          distribution: {
            regions: [...REGIONS],
            kmsKeyIds: { 'us-east-1': 'alias/ami-bake' },
            launchPermissions,
          },
        }),
      );

      // Assess
      expect(found).toEqual(
        ['eu-west-1', 'ap-southeast-2'].map((region) => ({
          path: `distribution.kmsKeyIds.${region}`,
          message:
            'images shared with other accounts need a customer-managed KMS key in every region; AWS refuses to share snapshots encrypted with the AWS managed key (aws/ebs)',
        })),
      );
    },
  );

  it('accepts a key for every distribution region (the builder volumes use the build region one)', () => {
    // Act
    const found = problems(
      recipe({
        distribution: { regions: [...REGIONS], kmsKeyIds: ALL_KEYS, launchPermissions: SHARED_WITH.accounts },
      }),
    );

    // Assess
    expect(found).toEqual([]);
  });

  it('refuses the AWS managed key named explicitly for a shared image, where it is named', () => {
    // Act
    const found = problems(
      recipe({
        builder: { instanceType: 't3.micro', volumes: { root: { kmsKeyId: 'alias/aws/ebs' } } },
        distribution: {
          regions: [...REGIONS],
          kmsKeyIds: { ...ALL_KEYS, 'eu-west-1': 'arn:aws:kms:eu-west-1:123456789012:alias/aws/ebs' },
          launchPermissions: SHARED_WITH.accounts,
        },
      }),
    );

    // Assess
    expect(found.map((p) => p.path)).toEqual([
      'builder.volumes.root.kmsKeyId',
      'distribution.kmsKeyIds.eu-west-1',
    ]);
    for (const p of found) expect(p.message).toContain('AWS managed key');
  });

  it('asks for the build region to be listed when a shared image has no distribution regions and no volume key', () => {
    // Act
    const found = problems(recipe({ distribution: { launchPermissions: SHARED_WITH.accounts } }));

    // Assess
    expect(found).toEqual([
      {
        path: 'distribution.regions',
        message: expect.stringContaining('customer-managed KMS key in the build region'),
      },
    ]);
  });

  it('accepts a shared image without distribution regions when every encrypted builder volume names its key', () => {
    // Act
    const found = problems(
      recipe({
        builder: {
          instanceType: 't3.micro',
          volumes: {
            root: { kmsKeyId: 'alias/ami-bake' },
            ebs: [{ deviceName: '/dev/sdf', sizeGiB: 10, kmsKeyId: 'alias/ami-bake' }],
          },
        },
        distribution: { launchPermissions: SHARED_WITH.accounts },
      }),
    );

    // Assess
    expect(found).toEqual([]);
  });

  it('needs no key when the builder volumes are not encrypted, or when the image is not shared', () => {
    // Act
    const unencrypted = problems(
      recipe({
        builder: { instanceType: 't3.micro', volumes: { root: { encrypted: false } } },
        distribution: { regions: [...REGIONS], launchPermissions: SHARED_WITH.accounts },
      }),
    );
    const unshared = problems(recipe({ distribution: { regions: [...REGIONS] } }));

    // Assess
    expect(unencrypted).toEqual([]);
    expect(unshared).toEqual([]);
  });
});

describe('builder.associatePublicIp', () => {
  it('defaults to auto: a public IP only where the subnet routes to an internet gateway', () => {
    // Act
    const parsed = recipeSchema.parse(recipe());

    // Assess
    expect(parsed.builder.associatePublicIp).toBe('auto');
  });

  it.each([true, false, 'auto'] as const)('accepts %s', (associatePublicIp) => {
    // Act
    const parsed = recipeSchema.parse(recipe({ builder: { instanceType: 't3.micro', associatePublicIp } }));

    // Assess
    expect(parsed.builder.associatePublicIp).toBe(associatePublicIp);
  });

  it('refuses anything else, saying what it takes', () => {
    // Act
    const found = problems(
      recipe({ builder: { instanceType: 't3.micro', associatePublicIp: 'yes' as unknown as boolean } }),
    );

    // Assess
    expect(found).toEqual([{ path: 'builder.associatePublicIp', message: 'must be true, false or auto' }]);
  });
});
