import { DescribeInstancesCommand, DescribeSnapshotsCommand, type Instance } from '@aws-sdk/client-ec2';
import { beforeAll, describe, expect, it } from 'vitest';
import { EVENT_DETAILS } from '../../lib/events.js';
import { TAG, TESTED } from '../../lib/tags.js';
import { type LocalBakeOptions, runLocalBake } from '../../local/runner.js';
import { type EventTap, provisionLocalStack, tapEvents } from '../../local/stack.js';
import { added, ec2, type Inventory, inventories, recipe, tagsOf, useEmulator } from './helpers.js';

/**
 * The recipe's `test` block end to end: after the image is available in the build region, one
 * test instance per type is launched from it and runs the test script through the bootstrap's
 * wrapper (played by the local runner as it plays the builder). What must hold afterwards is
 * read from the emulator: images, snapshots, tags and instances in every region.
 */
const regions = ['us-east-1', 'eu-west-1', 'ap-southeast-2'];
const TYPES = ['t3.micro', 'm5.large'];
const test = {
  script: '#!/bin/bash\nset -euo pipefail\ncurl -fsS http://localhost/ >/dev/null\n',
  instanceTypes: TYPES,
};

describe('a recipe with a launch test', () => {
  useEmulator();
  let tap: EventTap;

  beforeAll(async () => {
    const stack = await provisionLocalStack('us-east-1');
    tap = await tapEvents('us-east-1', stack.busName, 'launch-test', { source: ['ami-bake'] });
  });

  async function bake(options: Partial<LocalBakeOptions> = {}) {
    const before = await inventories(regions);
    const result = await runLocalBake({ recipe: await recipe({ test }), region: 'us-east-1', ...options });
    const after = await inventories(regions);
    const leaked = Object.fromEntries(
      regions.map((r) => [r, added(before[r] as Inventory, after[r] as Inventory)]),
    );
    const events = (await tap.read()).filter((e) => e.detail.bakeId === result.bakeId);
    return { result, after, leaked, events };
  }

  /** Every instance of the bake, whatever its state (terminated ones stay visible for a while). */
  async function bakeInstances(bakeId: string): Promise<Instance[]> {
    const { Reservations = [] } = await ec2('us-east-1').send(
      new DescribeInstancesCommand({ Filters: [{ Name: `tag:${TAG.bakeId}`, Values: [bakeId] }] }),
    );
    return Reservations.flatMap((r) => r.Instances ?? []);
  }

  const testInstances = (instances: Instance[]) => instances.filter((i) => tagsOf(i)[TAG.role] === 'test');

  describe('when every test instance passes', () => {
    let run: Awaited<ReturnType<typeof bake>>;
    beforeAll(async () => {
      run = await bake();
    });

    it('lets the bake succeed, with an image in every region', () => {
      expect(run.result.status).toBe('succeeded');
      expect(Object.keys(run.result.images).sort()).toEqual([...regions].sort());
    });

    it('launched one test instance per type from the new image, tagged as the bake test instances, and terminated them', async () => {
      const tests = testInstances(await bakeInstances(run.result.bakeId));
      const source = run.result.images['us-east-1']?.imageId;

      expect(tests.map((i) => i.InstanceType).sort()).toEqual([...TYPES].sort());
      for (const instance of tests) {
        expect(instance.ImageId).toBe(source);
        expect(instance.State?.Name).toBe('terminated');
        expect(tagsOf(instance)).toMatchObject({ [TAG.bakeId]: run.result.bakeId, [TAG.recipe]: 'e2e-web' });
      }
    });

    it('leaves no instance running or stopped in any region', () => {
      for (const region of regions) expect(run.leaked[region]?.liveInstances, region).toEqual([]);
    });

    it.each(regions)('marks the image in %s as tested, copies included', (region) => {
      const imageId = run.result.images[region]?.imageId;
      const image = run.after[region]?.images.find((i) => i.ImageId === imageId);

      expect(tagsOf(image)[TAG.tested]).toBe(TESTED);
    });

    it('marks the build region snapshots as tested too', async () => {
      const { Snapshots = [] } = await ec2('us-east-1').send(
        new DescribeSnapshotsCommand({ SnapshotIds: run.result.images['us-east-1']?.snapshotIds }),
      );

      expect(Snapshots.length).toBeGreaterThan(0);
      for (const snapshot of Snapshots) expect(tagsOf(snapshot)[TAG.tested]).toBe(TESTED);
    });

    it('reports each type, its outcome and the seconds from launch to done in Bake Succeeded', () => {
      const succeeded = run.events.filter((e) => e['detail-type'] === 'Bake Succeeded');
      expect(succeeded).toHaveLength(1);
      const detail = EVENT_DETAILS['Bake Succeeded'].parse(succeeded[0]?.detail);

      expect(detail.tests?.map((t) => t.instanceType).sort()).toEqual([...TYPES].sort());
      for (const t of detail.tests ?? []) {
        expect(t).toMatchObject({ outcome: 'passed', exitCode: 0, instanceId: expect.stringMatching(/^i-/) });
        expect(t.secondsToDone).toBeGreaterThanOrEqual(0);
      }
      expect(Object.keys(detail.stages)).toContain('TestImage');
    });
  });

  describe('when a test instance fails', () => {
    let run: Awaited<ReturnType<typeof bake>>;
    beforeAll(async () => {
      run = await bake({ testInstances: 'fail' });
    });

    it('fails the bake at TestImage, naming the instance type, the exit code and the log tail', () => {
      expect(run.result.status).toBe('failed');
      expect(run.result.failure).toMatchObject({ stage: 'TestImage', error: 'TestFailedError' });
      expect(run.result.failure?.cause).toMatch(
        /test script exited with code 1 on test instance i-\w+ \((t3\.micro|m5\.large)\); log tail: simulated failure/,
      );
    });

    it('leaves nothing behind in any region: no image, snapshot, volume or live instance', () => {
      for (const region of regions) {
        expect(run.leaked[region], region).toEqual({
          liveInstances: [],
          images: [],
          snapshots: [],
          volumes: [],
        });
      }
    });

    it('terminated the builder and every test instance', async () => {
      const instances = await bakeInstances(run.result.bakeId);

      expect(testInstances(instances).length).toBeGreaterThan(0);
      expect(instances.map((i) => i.State?.Name)).toEqual(instances.map(() => 'terminated'));
    });

    it('publishes Bake Failed naming the stage and what the cleanup removed, and no Bake Succeeded', () => {
      const failed = run.events.filter((e) => e['detail-type'] === 'Bake Failed');
      expect(failed).toHaveLength(1);
      const detail = EVENT_DETAILS['Bake Failed'].parse(failed[0]?.detail);

      expect(detail).toMatchObject({ stage: 'TestImage', error: 'TestFailedError', region: 'us-east-1' });
      expect(detail.cleanup.deregisteredImages.map((i) => i.region)).toEqual(['us-east-1']);
      expect(run.events.map((e) => e['detail-type'])).not.toContain('Bake Succeeded');
    });
  });
});
