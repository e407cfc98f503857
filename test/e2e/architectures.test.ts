import { DescribeImagesCommand } from '@aws-sdk/client-ec2';
import { beforeAll, describe, expect, it } from 'vitest';
import { EVENT_DETAILS } from '../../lib/events.js';
import { TAG } from '../../lib/tags.js';
import { type LocalBakeOptions, runLocalBake } from '../../local/runner.js';
import { type EventTap, provisionLocalStack, tapEvents } from '../../local/stack.js';
import { added, ec2, type Inventory, inventories, recipe, tagsOf, useEmulator } from './helpers.js';

const regions = ['us-east-1', 'eu-west-1', 'ap-southeast-2'];

/**
 * One request, two architectures: each is baked by a child execution of the same state machine
 * (decision 0006), with its own base image (AWS's public parameter of that architecture) and its
 * own builder type. Asserted on what the emulator holds afterwards, in every region.
 */
const twoArchitectures = {
  architectures: ['x86_64', 'arm64'],
  base: { ssmParameter: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{architecture}' },
  builder: { instanceType: { x86_64: 't3.micro', arm64: 't4g.micro' }, tags: { team: 'platform' } },
};

describe('a recipe with several architectures', () => {
  useEmulator();
  let tap: EventTap;

  beforeAll(async () => {
    const stack = await provisionLocalStack('us-east-1');
    tap = await tapEvents('us-east-1', stack.busName, 'architectures-test', { source: ['ami-bake'] });
  });

  async function bake(options: Partial<LocalBakeOptions> = {}) {
    const before = await inventories(regions);
    const result = await runLocalBake({
      recipe: await recipe(twoArchitectures),
      region: 'us-east-1',
      ...options,
    });
    const after = await inventories(regions);
    const left = Object.fromEntries(
      regions.map((r) => [r, added(before[r] as Inventory, after[r] as Inventory)]),
    );
    const events = (await tap.read()).filter((e) => String(e.detail.bakeId).startsWith(result.bakeId));
    return { result, left, events };
  }

  it('bakes both architectures in one request: an image of each in every region, grouped by architecture', async () => {
    // Act
    const { result, left, events } = await bake();

    // Assess
    expect(result.status, JSON.stringify(result.failure)).toBe('succeeded');
    expect(Object.keys(result.architectures ?? {}).sort()).toEqual(['arm64', 'x86_64']);
    for (const [architecture, images] of Object.entries(result.architectures ?? {})) {
      expect(Object.keys(images).sort(), architecture).toEqual([...regions].sort());
      for (const [region, { imageId }] of Object.entries(images)) {
        const { Images = [] } = await ec2(region).send(new DescribeImagesCommand({ ImageIds: [imageId] }));
        const image = Images[0];
        expect(image?.Architecture, `${architecture} in ${region}`).toBe(architecture);
        expect(image?.State).toBe('available');
        // Each child tags with its own bake id, which names the request it belongs to.
        expect(tagsOf(image)[TAG.bakeId]).toBe(`${result.bakeId}-${architecture}`);
        expect(image?.Name).toMatch(new RegExp(`-${architecture}$`));
      }
    }
    for (const region of regions) {
      expect(left[region]?.images, region).toHaveLength(2);
      expect(left[region]?.liveInstances, region).toEqual([]);
    }
    // The request announces once, for both; its children announce nothing.
    expect(events.map((e) => e['detail-type']).sort()).toEqual(['Bake Started', 'Bake Succeeded']);
    const succeeded = EVENT_DETAILS['Bake Succeeded'].parse(
      events.find((e) => e['detail-type'] === 'Bake Succeeded')?.detail,
    );
    expect(succeeded.bakeId).toBe(result.bakeId);
    expect(succeeded.architectures).toEqual(result.architectures);
  });

  it('fails the request when one architecture fails, and leaves nothing of either architecture in any region', async () => {
    // Act: the arm64 builder's bootstrap exits 1; the x86_64 one succeeds.
    const { result, left, events } = await bake({ builder: { arm64: 'fail' } });

    // Assess
    expect(result.status).toBe('failed');
    expect(result.failure).toMatchObject({
      architecture: 'arm64',
      stage: 'WaitForBuilder',
      error: 'BootstrapFailedError',
    });
    for (const region of regions) {
      expect(left[region], region).toEqual({ liveInstances: [], images: [], snapshots: [], volumes: [] });
    }
    const failed = events.filter((e) => e['detail-type'] === 'Bake Failed');
    expect(failed).toHaveLength(1);
    const detail = EVENT_DETAILS['Bake Failed'].parse(failed[0]?.detail);
    expect(detail).toMatchObject({
      bakeId: result.bakeId,
      architecture: 'arm64',
      stage: 'WaitForBuilder',
      error: 'BootstrapFailedError',
    });
    expect(events.map((e) => e['detail-type'])).not.toContain('Bake Succeeded');
  });
});
