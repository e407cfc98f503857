import {
  CreateTagsCommand,
  DescribeImagesCommand,
  EnableImageDeprecationCommand,
  EnableImageDeregistrationProtectionCommand,
  ModifyImageAttributeCommand,
  ModifySnapshotAttributeCommand,
} from '@aws-sdk/client-ec2';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { deprecationTime, finalizeImage, launchPermissions } from '../../../functions/finalize-image/core.js';
import { BUILD_REGION, now, recipe, regionalEc2 } from './fixtures.js';

const REGIONS = [BUILD_REGION, 'eu-west-1'];
const { ec2, mock } = regionalEc2(REGIONS);
const deps = { ec2, now };

/** The state as FinalizeImage gets it: the wait outputs say each image is available, with its snapshots. */
const input = (r = recipe()) => ({
  recipe: r,
  image: { imageId: 'ami-0source000000001', region: BUILD_REGION },
  imageReady: { imageId: 'ami-0source000000001', snapshotIds: ['snap-0source00000001'] },
  copies: [{ region: 'eu-west-1', imageId: 'ami-0copyeu00000001', snapshotIds: ['snap-0copyeu00000001'] }],
});

beforeEach(() => {
  for (const region of REGIONS) mock(region).reset();
});

describe('launchPermissions', () => {
  it('grants accounts, organizations and OUs, and the public only when public is true', () => {
    // Prepare
    const org = 'arn:aws:organizations::111122223333:organization/o-abcdefghij';
    const ou = 'arn:aws:organizations::111122223333:ou/o-abcdefghij/ou-ab12-abcdefgh';

    // Act
    const shared = launchPermissions({
      accounts: ['111122223333'],
      organizations: [org],
      organizationalUnits: [ou],
      public: false,
    });
    const open = launchPermissions({
      accounts: [],
      organizations: [],
      organizationalUnits: [],
      public: true,
    });

    // Assess
    expect(shared).toEqual([
      { UserId: '111122223333' },
      { OrganizationArn: org },
      { OrganizationalUnitArn: ou },
    ]);
    expect(shared).not.toContainEqual({ Group: 'all' });
    expect(open).toEqual([{ Group: 'all' }]);
  });
});

describe('finalizeImage', () => {
  it('returns every regional image with its snapshots, as the waits saw them available', async () => {
    // Act
    const result = await finalizeImage(input(), deps);

    // Assess
    expect(result).toEqual({
      images: {
        [BUILD_REGION]: { imageId: 'ami-0source000000001', snapshotIds: ['snap-0source00000001'] },
        'eu-west-1': { imageId: 'ami-0copyeu00000001', snapshotIds: ['snap-0copyeu00000001'] },
      },
      at: '2026-11-26T04:47:42.123Z',
    });
  });

  it('neither describes nor tags: the wait outputs carry state and snapshots, the tags were given at creation', async () => {
    // Act
    await finalizeImage(
      input(recipe({ image: { tags: { team: 'platform' }, snapshotTags: { backup: 'none' } } })),
      deps,
    );

    // Assess
    for (const region of REGIONS) {
      expect(mock(region)).not.toHaveReceivedCommand(DescribeImagesCommand);
      expect(mock(region)).not.toHaveReceivedCommand(CreateTagsCommand);
    }
  });

  it('adds the launch permissions to every regional image', async () => {
    // Act
    await finalizeImage(
      input(
        recipe({
          distribution: {
            regions: [BUILD_REGION, 'eu-west-1'],
            // Shared encrypted images need a customer-managed key in every region.
            kmsKeyIds: { [BUILD_REGION]: 'alias/ami-bake', 'eu-west-1': 'alias/ami-bake' },
            launchPermissions: { accounts: ['111122223333'] },
          },
        }),
      ),
      deps,
    );

    // Assess
    for (const [region, imageId] of [
      [BUILD_REGION, 'ami-0source000000001'],
      ['eu-west-1', 'ami-0copyeu00000001'],
    ] as const) {
      expect(mock(region)).toHaveReceivedCommandExactlyOnceWith(ModifyImageAttributeCommand, {
        ImageId: imageId,
        Attribute: 'launchPermission',
        LaunchPermission: { Add: [{ UserId: '111122223333' }] },
      });
    }
  });

  it('shares with the public only when the recipe says public: true', async () => {
    // Prepare: AWS shares only unencrypted images publicly, so the recipe turns encryption off.
    const open = recipe({
      builder: { instanceType: 't3.small', volumes: { root: { encrypted: false } } },
      distribution: { launchPermissions: { public: true } },
    });

    // Act
    await finalizeImage(input(open), deps);

    // Assess
    expect(mock(BUILD_REGION)).toHaveReceivedCommandWith(ModifyImageAttributeCommand, {
      LaunchPermission: { Add: [{ Group: 'all' }] },
    });
  });

  it('leaves launch permissions alone when the recipe shares with nobody', async () => {
    // Act
    await finalizeImage(input(), deps);

    // Assess
    expect(mock(BUILD_REGION)).not.toHaveReceivedCommand(ModifyImageAttributeCommand);
    expect(mock('eu-west-1')).not.toHaveReceivedCommand(ModifyImageAttributeCommand);
  });

  it("deprecates every copy the recipe's days after the bake, rounded up to a whole minute", async () => {
    // Act
    await finalizeImage(input(recipe({ image: { deprecateAfterDays: 90 } })), deps);

    // Assess: now() is 04:47:42.123; EC2 would round :42 s to the nearest minute, so we go up.
    for (const [region, imageId] of [
      [BUILD_REGION, 'ami-0source000000001'],
      ['eu-west-1', 'ami-0copyeu00000001'],
    ] as const) {
      expect(mock(region)).toHaveReceivedCommandExactlyOnceWith(EnableImageDeprecationCommand, {
        ImageId: imageId,
        DeprecateAt: new Date('2027-02-24T04:48:00.000Z'),
      });
    }
  });

  it('protects every copy from deregistration without a cooldown, so Cleanup can lift it after a later failure', async () => {
    // Act
    await finalizeImage(input(recipe({ image: { deregistrationProtection: true } })), deps);

    // Assess
    for (const region of REGIONS) {
      expect(mock(region)).toHaveReceivedCommandWith(EnableImageDeregistrationProtectionCommand, {
        WithCooldown: false,
      });
    }
  });

  it('neither deprecates nor protects when the recipe does not ask', async () => {
    // Act
    await finalizeImage(input(), deps);

    // Assess
    for (const region of REGIONS) {
      expect(mock(region)).not.toHaveReceivedCommand(EnableImageDeprecationCommand);
      expect(mock(region)).not.toHaveReceivedCommand(EnableImageDeregistrationProtectionCommand);
      expect(mock(region)).not.toHaveReceivedCommand(ModifySnapshotAttributeCommand);
    }
  });

  it("gives the accounts create-volume permission on every region's snapshots, and never organizations", async () => {
    // Act
    await finalizeImage(
      input(
        recipe({
          distribution: {
            regions: [BUILD_REGION, 'eu-west-1'],
            kmsKeyIds: { [BUILD_REGION]: 'alias/ami-bake', 'eu-west-1': 'alias/ami-bake' },
            launchPermissions: {
              accounts: ['111122223333'],
              organizations: ['arn:aws:organizations::111122223333:organization/o-abcdefghij'],
              createVolumePermission: true,
            },
          },
        }),
      ),
      deps,
    );

    // Assess
    for (const [region, snapshotId] of [
      [BUILD_REGION, 'snap-0source00000001'],
      ['eu-west-1', 'snap-0copyeu00000001'],
    ] as const) {
      expect(mock(region)).toHaveReceivedCommandExactlyOnceWith(ModifySnapshotAttributeCommand, {
        SnapshotId: snapshotId,
        Attribute: 'createVolumePermission',
        OperationType: 'add',
        UserIds: ['111122223333'],
      });
    }
  });
});

describe('deprecationTime', () => {
  it('is exact on a whole minute and rounds any seconds up', () => {
    expect(deprecationTime(new Date('2026-01-01T00:00:00Z'), 1).toISOString()).toBe(
      '2026-01-02T00:00:00.000Z',
    );
    expect(deprecationTime(new Date('2026-01-01T00:00:00.001Z'), 1).toISOString()).toBe(
      '2026-01-02T00:01:00.000Z',
    );
  });
});
