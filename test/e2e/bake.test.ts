import {
  DescribeImageAttributeCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
} from '@aws-sdk/client-ec2';
import { beforeAll, describe, expect, it } from 'vitest';
import { type DetailType, EVENT_DETAILS } from '../../lib/events.js';
import { recipeHash } from '../../lib/recipe/hash.js';
import { TAG } from '../../lib/tags.js';
import { type LocalBakeResult, runLocalBake } from '../../local/runner.js';
import { provisionLocalStack, tapEvents } from '../../local/stack.js';
import { added, ec2, type Inventory, inventories, recipe, tagsOf, useEmulator } from './helpers.js';

const regions = ['us-east-1', 'eu-west-1', 'ap-southeast-2'];

describe('a three-region bake against the emulator', () => {
  useEmulator();
  let result: LocalBakeResult;
  let before: Record<string, Inventory>;
  let after: Record<string, Inventory>;
  let events: { 'detail-type': string; detail: Record<string, unknown> }[];
  let hash: string;

  beforeAll(async () => {
    const r = await recipe();
    hash = recipeHash(r);
    const stack = await provisionLocalStack('us-east-1');
    const tap = await tapEvents('us-east-1', stack.busName, 'bake-test', { source: ['ami-bake'] });
    before = await inventories(regions);
    result = await runLocalBake({ recipe: r, region: 'us-east-1' });
    after = await inventories(regions);
    events = await tap.read();
  });

  it('succeeds with one image per region', () => {
    expect(result.status).toBe('succeeded');
    expect(Object.keys(result.images).sort()).toEqual([...regions].sort());
  });

  it('gives the handlers the SDK retry settings they have in AWS (5 attempts, standard mode)', async () => {
    const { ec2: handlerEc2 } = await import('../../lib/aws/ec2.js');
    expect(await handlerEc2('us-east-1').config.maxAttempts()).toBe(5);
    const mode = handlerEc2('eu-west-1').config.retryMode;
    expect(typeof mode === 'function' ? await mode() : mode).toBe('standard');
  });

  it.each(regions)(
    'leaves exactly one new available image in %s, with lineage and recipe tags',
    async (region) => {
      const imageId = result.images[region]?.imageId ?? '';
      const inv = after[region] as Inventory;
      expect(added(before[region] as Inventory, inv).images).toEqual([imageId]);
      const image = inv.images.find((i) => i.ImageId === imageId);
      expect(image?.State).toBe('available');
      expect(image?.Name).toBe(result.imageName);
      expect(tagsOf(image)).toMatchObject({
        [TAG.bakeId]: result.bakeId,
        [TAG.recipe]: 'e2e-web',
        [TAG.recipeHash]: hash,
        [TAG.baseImageId]: expect.stringMatching(/^ami-/),
        Name: result.imageName,
        os: 'al2023',
      });
    },
  );

  it.each(regions)('tags every snapshot of the image in %s', (region) => {
    const { snapshotIds } = result.images[region] ?? { snapshotIds: [] };
    expect(snapshotIds.length).toBeGreaterThan(0);
    const inv = after[region] as Inventory;
    expect(added(before[region] as Inventory, inv).snapshots).toEqual(expect.arrayContaining(snapshotIds));
    for (const id of snapshotIds) {
      expect(tagsOf(inv.snapshots.find((s) => s.SnapshotId === id))).toMatchObject({
        [TAG.bakeId]: result.bakeId,
        backup: 'none',
      });
    }
  });

  it.each(regions)('grants launch permission to the account and organization in %s', async (region) => {
    const imageId = result.images[region]?.imageId;
    const { LaunchPermissions = [] } = await ec2(region).send(
      new DescribeImageAttributeCommand({ ImageId: imageId, Attribute: 'launchPermission' }),
    );
    expect(LaunchPermissions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ UserId: '111122223333' }),
        expect.objectContaining({
          OrganizationArn: 'arn:aws:organizations::123456789012:organization/o-abcdefghij',
        }),
      ]),
    );
    expect(LaunchPermissions.some((p) => p.Group === 'all')).toBe(false);
  });

  it('terminates the builder and leaves no running instance anywhere', async () => {
    const { Reservations = [] } = await ec2('us-east-1').send(
      new DescribeInstancesCommand({ Filters: [{ Name: `tag:${TAG.bakeId}`, Values: [result.bakeId] }] }),
    );
    const builders = Reservations.flatMap((r) => r.Instances ?? []);
    expect(builders).toHaveLength(1);
    expect(builders[0]?.State?.Name).toBe('terminated');
    for (const region of regions)
      expect(added(before[region] as Inventory, after[region] as Inventory).liveInstances).toEqual([]);
    // The builder's volumes go with it (DeleteOnTermination on every EBS mapping).
    for (const region of regions)
      expect(added(before[region] as Inventory, after[region] as Inventory).volumes).toEqual([]);
  });

  it('copies carry the source region tag', async () => {
    const { Images = [] } = await ec2('eu-west-1').send(
      new DescribeImagesCommand({ ImageIds: [result.images['eu-west-1']?.imageId ?? ''] }),
    );
    expect(tagsOf(Images[0])[TAG.sourceRegion]).toBe('us-east-1');
  });

  it('publishes Bake Started then Bake Succeeded on the bus, each valid against its schema', () => {
    const mine = events.filter((e) => e.detail.bakeId === result.bakeId);
    expect(mine.map((e) => e['detail-type'])).toEqual(['Bake Started', 'Bake Succeeded']);
    for (const e of mine)
      expect(() => EVENT_DETAILS[e['detail-type'] as DetailType].parse(e.detail)).not.toThrow();
    const succeeded = EVENT_DETAILS['Bake Succeeded'].parse(mine[1]?.detail);
    expect(succeeded.images).toEqual(result.images);
    expect(succeeded.recipe).toEqual({ name: 'e2e-web', hash });
    expect(Object.keys(succeeded.stages)).toEqual(
      expect.arrayContaining(['ResolveRecipe', 'WaitForBuilder', 'CopyImages', 'FinalizeImage']),
    );
  });
});
