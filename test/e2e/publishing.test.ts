import {
  CreateLaunchTemplateCommand,
  DescribeImageAttributeCommand,
  DescribeImagesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeSnapshotAttributeCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { beforeAll, describe, expect, it } from 'vitest';
import { config } from '../../lib/config.js';
import { EVENT_DETAILS } from '../../lib/events.js';
import { DISTRIBUTE_TAG } from '../../lib/tags.js';
import { type LocalBakeResult, localLayer, runLocalBake } from '../../local/runner.js';
import { type EventTap, provisionLocalStack, tapEvents } from '../../local/stack.js';
import { added, ec2, type Inventory, inventories, recipe, useEmulator } from './helpers.js';

const regions = ['us-east-1', 'eu-west-1', 'ap-southeast-2'];
const PARAMETER = '/ami-bake/e2e-web/latest';
const TEMPLATE = 'e2e-web';
const OU = 'arn:aws:organizations::123456789012:ou/o-abcdefghij/ou-ab12-abcdefgh';
const ssm = (region: string) => new SSMClient({ region, maxAttempts: 1 });

/** The recipe of these bakes: deprecated after 30 days, protected, shared, published. */
const publishing = (distribution: Record<string, unknown> = {}) =>
  recipe({
    image: { deprecateAfterDays: 30, deregistrationProtection: true },
    distribution: {
      regions,
      kmsKeyIds: Object.fromEntries(regions.map((r) => [r, 'alias/ami-bake'])),
      launchPermissions: {
        accounts: ['111122223333'],
        organizations: ['arn:aws:organizations::123456789012:organization/o-abcdefghij'],
        organizationalUnits: [OU],
        createVolumePermission: true,
      },
      ssmParameter: PARAMETER,
      launchTemplates: [{ name: TEMPLATE, setDefault: true }],
      ...distribution,
    },
  });

async function parameter(region: string): Promise<{ value?: string; dataType?: string }> {
  const { Parameter } = await ssm(region).send(new GetParameterCommand({ Name: PARAMETER }));
  return { value: Parameter?.Value, dataType: Parameter?.DataType };
}

async function templateVersions(region: string) {
  const { LaunchTemplateVersions = [] } = await ec2(region).send(
    new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: TEMPLATE }),
  );
  return LaunchTemplateVersions.map((v) => ({
    version: v.VersionNumber,
    imageId: v.LaunchTemplateData?.ImageId,
    isDefault: v.DefaultVersion,
  }));
}

describe('publishing a bake: parameters, launch templates, deprecation, protection, sharing', () => {
  const emulator = useEmulator();
  let tap: EventTap;
  let layerEc2: (region: string) => EC2Client;
  let before: Record<string, Inventory>;
  let result: LocalBakeResult;
  let events: { 'detail-type': string; detail: Record<string, unknown> }[];
  const bakedAt = Date.now();

  beforeAll(async () => {
    const stack = await provisionLocalStack('us-east-1');
    tap = await tapEvents('us-east-1', stack.busName, 'publishing-test', { source: ['ami-bake'] });
    const layer = await localLayer(emulator.endpoint());
    layerEc2 = (region) => new EC2Client({ region, endpoint: layer.endpoint, maxAttempts: 1 });
    for (const region of regions) {
      const { Parameter } = await ssm(region).send(
        new GetParameterCommand({
          Name: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
        }),
      );
      // The owner opts the template in to this stack's versions (DISTRIBUTE_TAG).
      await ec2(region).send(
        new CreateLaunchTemplateCommand({
          LaunchTemplateName: TEMPLATE,
          LaunchTemplateData: { ImageId: Parameter?.Value, InstanceType: 't3.micro' },
          TagSpecifications: [
            {
              ResourceType: 'launch-template',
              Tags: [{ Key: DISTRIBUTE_TAG, Value: config().STACK_NAME }],
            },
          ],
        }),
      );
    }
    before = await inventories(regions);
    result = await runLocalBake({ recipe: await publishing(), region: 'us-east-1' });
    events = (await tap.read()).filter((e) => e.detail.bakeId === result.bakeId);
  });

  it('succeeds with one image per region', () => {
    expect(result.failure).toBeUndefined();
    expect(result.status).toBe('succeeded');
    expect(Object.keys(result.images).sort()).toEqual([...regions].sort());
  });

  it.each(regions)("points the SSM parameter at %s's image, as an aws:ec2:image", async (region) => {
    expect(await parameter(region)).toEqual({
      value: result.images[region]?.imageId,
      dataType: 'aws:ec2:image',
    });
  });

  it.each(regions)(
    "adds a launch template version with %s's image and makes it the default",
    async (region) => {
      const versions = await templateVersions(region);

      expect(versions).toHaveLength(2);
      expect(versions[1]).toEqual({ version: 2, imageId: result.images[region]?.imageId, isDefault: true });
    },
  );

  it.each(regions)(
    'deprecates and protects the image in %s (through the AWS-behaviour layer)',
    async (region) => {
      const { Images = [] } = await layerEc2(region).send(
        new DescribeImagesCommand({ ImageIds: [result.images[region]?.imageId ?? ''] }),
      );
      const deprecation = Date.parse(Images[0]?.DeprecationTime ?? '');

      expect(deprecation).toBeGreaterThanOrEqual(bakedAt + 30 * 86_400_000 - 60_000);
      expect(deprecation).toBeLessThanOrEqual(Date.now() + 30 * 86_400_000 + 60_000);
      expect(Images[0]?.DeregistrationProtection).toBe('enabled-without-cooldown');
    },
  );

  it.each(regions)('lets the account create volumes from every snapshot in %s', async (region) => {
    for (const snapshotId of result.images[region]?.snapshotIds ?? []) {
      const { CreateVolumePermissions } = await ec2(region).send(
        new DescribeSnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: 'createVolumePermission' }),
      );
      expect(CreateVolumePermissions).toEqual([{ UserId: '111122223333' }]);
    }
  });

  it.each(regions)('shares the image in %s with the account, the organization and the OU', async (region) => {
    const { LaunchPermissions = [] } = await ec2(region).send(
      new DescribeImageAttributeCommand({
        ImageId: result.images[region]?.imageId ?? '',
        Attribute: 'launchPermission',
      }),
    );

    expect(LaunchPermissions).toEqual(
      expect.arrayContaining([
        { UserId: '111122223333' },
        { OrganizationArn: 'arn:aws:organizations::123456789012:organization/o-abcdefghij' },
        { OrganizationalUnitArn: OU },
      ]),
    );
  });

  it('says in Bake Succeeded what it distributed, valid against the event schema', () => {
    const succeeded = events.find((e) => e['detail-type'] === 'Bake Succeeded');
    const detail = EVENT_DETAILS['Bake Succeeded'].parse(succeeded?.detail);

    expect(detail.distributed?.parameters.map((p) => [p.region, p.imageId]).sort()).toEqual(
      regions.map((r) => [r, result.images[r]?.imageId]).sort(),
    );
    expect(detail.distributed?.launchTemplates).toHaveLength(regions.length);
  });

  describe('when DistributeImage fails in one region', () => {
    let failed: LocalBakeResult;
    let leaked: Record<string, ReturnType<typeof added>>;

    beforeAll(async () => {
      const layer = await localLayer(emulator.endpoint());
      layer.addFault({
        service: 'ec2',
        action: 'CreateLaunchTemplateVersion',
        region: 'ap-southeast-2',
        effect: 'error-before',
        error: { code: 'UnauthorizedOperation', status: 403, message: 'not allowed' },
      });
      const start = await inventories(regions);
      try {
        failed = await runLocalBake({ recipe: await publishing(), region: 'us-east-1' });
      } finally {
        layer.clearFaults();
      }
      const after = await inventories(regions);
      leaked = Object.fromEntries(
        regions.map((r) => [r, added(start[r] as Inventory, after[r] as Inventory)]),
      );
    });

    it('fails at DistributeImage, naming the region and the error', () => {
      expect(failed.status).toBe('failed');
      expect(failed.failure).toMatchObject({ stage: 'DistributeImage', error: 'DistributionFailedError' });
      expect(failed.failure?.cause).toMatch(/ap-southeast-2: UnauthorizedOperation.*restored/);
    });

    it('removes its protected images and their snapshots in every region', () => {
      for (const region of regions) {
        expect(leaked[region], region).toEqual({ liveInstances: [], images: [], snapshots: [], volumes: [] });
      }
    });

    it.each(regions)(
      "restores the parameter and the launch template in %s to the first bake's image",
      async (region) => {
        expect((await parameter(region)).value).toBe(result.images[region]?.imageId);
        const versions = await templateVersions(region);
        expect(versions.map((v) => v.imageId)).not.toContain(failed.images[region]?.imageId);
        expect(versions.find((v) => v.isDefault)?.imageId).toBe(result.images[region]?.imageId);
      },
    );
  });

  it('fails at ResolveRecipe, creating nothing, when a launch template is missing in a target region', async () => {
    const start = await inventories(regions);

    const refused = await runLocalBake({
      recipe: await publishing({ launchTemplates: [{ name: 'no-such-template' }] }),
      region: 'us-east-1',
    });

    expect(refused.failure).toMatchObject({ stage: 'ResolveRecipe', error: 'RecipeInvalidError' });
    expect(refused.failure?.cause).toContain('launch template no-such-template does not exist in eu-west-1');
    const after = await inventories(regions);
    for (const region of regions) {
      expect(added(start[region] as Inventory, after[region] as Inventory).images).toEqual([]);
    }
  });

  it("leaves nothing behind from before this file but the first bake's images", async () => {
    const now = await inventories(regions);
    for (const region of regions) {
      expect(added(before[region] as Inventory, now[region] as Inventory).images).toEqual([
        result.images[region]?.imageId,
      ]);
    }
  });
});
