import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoScalingClient, CreateLaunchConfigurationCommand } from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type ImagesRetiredDetail, imagesRetiredDetail } from '../../lib/events.js';
import { loadRecipeFile } from '../../lib/recipe/load.js';
import type { ResolvedRecipe } from '../../lib/state.js';
import { type LocalBakeResult, runLocalBake } from '../../local/runner.js';
import { cli } from '../cli/helpers.js';
import { ec2, type Inventory, inventories, useEmulator } from './helpers.js';

const regions = ['us-east-1', 'eu-west-1'];

/** A recipe that keeps its newest bake, in two regions. */
const RAW = {
  name: 'e2e-retain',
  base: { ssmParameter: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64' },
  builder: { instanceType: 't3.micro' },
  bootstrap: { script: '#!/bin/bash\necho retained > /etc/motd\n', timeoutMinutes: 5 },
  distribution: { regions },
  retention: { keep: 1 },
};

const imageIds = (inv: Inventory) => inv.images.map((i) => i.ImageId ?? '').sort();
const snapshotIds = (inv: Inventory) => inv.snapshots.map((s) => s.SnapshotId ?? '');
const retiredEvents = (r: LocalBakeResult): ImagesRetiredDetail[] =>
  r.events
    .filter((e) => e['detail-type'] === 'Images Retired')
    .map((e) => imagesRetiredDetail.parse(e.detail));

/**
 * Four bakes of a recipe with `retention: {keep: 1}` against the emulator. Between them, the
 * account starts using old images: an instance launched from bake 1's image in us-east-1, a launch
 * template whose default version is bake 2's image in eu-west-1, and an Auto Scaling launch
 * configuration of bake 2's image in us-east-1. The instance is then terminated.
 */
describe('retention: keep the newest bake, retire the rest, never what is in use', () => {
  useEmulator();
  let file: string;
  let recipe: ResolvedRecipe;
  const bakes: LocalBakeResult[] = [];
  const image = (bake: number, region: string) => bakes[bake - 1]?.images[region]?.imageId ?? '';
  const snapshotsOf = (bake: number, region: string) => bakes[bake - 1]?.images[region]?.snapshotIds ?? [];
  let instanceId: string;
  let afterThird: Record<string, Inventory>;
  let dryRun: { code: number; report: ImagesRetiredDetail & { dryRun: boolean } };
  let afterDryRun: Record<string, Inventory>;
  let afterFourth: Record<string, Inventory>;

  const bake = async () => {
    const result = await runLocalBake({ recipe, region: 'us-east-1' });
    if (result.status !== 'succeeded')
      throw new Error(JSON.stringify({ stages: result.stages, events: result.events }));
    bakes.push(result);
    return result;
  };

  beforeAll(async () => {
    file = join(await mkdtemp(join(tmpdir(), 'retention-')), 'e2e-retain.yml');
    await writeFile(file, stringify(RAW));
    const loaded = await loadRecipeFile(file);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    recipe = loaded.recipe;

    await bake();
    const run = await ec2('us-east-1').send(
      new RunInstancesCommand({
        ImageId: image(1, 'us-east-1'),
        InstanceType: 't3.micro',
        MinCount: 1,
        MaxCount: 1,
      }),
    );
    instanceId = run.Instances?.[0]?.InstanceId ?? '';
    await bake();
    await ec2('eu-west-1').send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: 'web-fleet',
        LaunchTemplateData: { ImageId: image(2, 'eu-west-1'), InstanceType: 't3.micro' },
      }),
    );
    await new AutoScalingClient({ region: 'us-east-1', maxAttempts: 1 }).send(
      new CreateLaunchConfigurationCommand({
        LaunchConfigurationName: 'web-lc',
        ImageId: image(2, 'us-east-1'),
        InstanceType: 't3.micro',
      }),
    );
    await bake();
    afterThird = await inventories(regions);
    await ec2('us-east-1').send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
    const run4 = await cli('retire', file, '--local', '--dry-run', '--json');
    dryRun = { code: run4.code, report: JSON.parse(run4.stdout) };
    afterDryRun = await inventories(regions);
    await bake();
    afterFourth = await inventories(regions);
  }, 240_000);

  it('after each bake, keeps only the newest bake of images that nothing uses, with their snapshots', () => {
    for (const r of regions) {
      expect(imageIds(afterFourth[r] as Inventory)).toContain(image(4, r));
      expect(imageIds(afterFourth[r] as Inventory)).not.toContain(image(3, r));
      for (const s of snapshotsOf(3, r)) expect(snapshotIds(afterFourth[r] as Inventory)).not.toContain(s);
      for (const s of snapshotsOf(4, r)) expect(snapshotIds(afterFourth[r] as Inventory)).toContain(s);
    }
    // Bake 1's copy in eu-west-1 was never used: retired after bake 2.
    expect(imageIds(afterThird['eu-west-1'] as Inventory)).not.toContain(image(1, 'eu-west-1'));
    for (const s of snapshotsOf(1, 'eu-west-1'))
      expect(snapshotIds(afterThird['eu-west-1'] as Inventory)).not.toContain(s);
  });

  it('keeps images in use, in the region where they are used, and says why in Images Retired', () => {
    const third = retiredEvents(bakes[2] as LocalBakeResult);
    const kept = (region: string, id: string) =>
      third[0]?.regions[region]?.kept.find((k) => k.imageId === id)?.reasons.map((r) => r.kind);

    expect(third).toHaveLength(1);
    expect(third[0]).toMatchObject({
      bakeId: bakes[2]?.bakeId,
      trigger: 'bake',
      keep: 1,
      recipe: { name: 'e2e-retain' },
    });
    expect(kept('us-east-1', image(1, 'us-east-1'))).toEqual(['instance']);
    expect(kept('us-east-1', image(2, 'us-east-1'))).toEqual(['launch-configuration']);
    expect(kept('eu-west-1', image(2, 'eu-west-1'))).toEqual(['launch-template']);
    expect(kept('us-east-1', image(3, 'us-east-1'))).toEqual(['newest']);
    for (const id of [image(1, 'us-east-1'), image(2, 'us-east-1')])
      expect(imageIds(afterThird['us-east-1'] as Inventory)).toContain(id);
    expect(imageIds(afterThird['eu-west-1'] as Inventory)).toContain(image(2, 'eu-west-1'));
  });

  it('retires an image once it is no longer in use', () => {
    const fourth = retiredEvents(bakes[3] as LocalBakeResult)[0];

    expect(fourth?.regions['us-east-1']?.retired.map((i) => i.imageId).sort()).toEqual(
      [image(1, 'us-east-1'), image(3, 'us-east-1')].sort(),
    );
    expect(
      fourth?.regions['us-east-1']?.retired.find((i) => i.imageId === image(1, 'us-east-1'))
        ?.deletedSnapshots,
    ).toEqual(snapshotsOf(1, 'us-east-1'));
    expect(imageIds(afterFourth['us-east-1'] as Inventory)).toEqual(
      [image(2, 'us-east-1'), image(4, 'us-east-1')].sort(),
    );
    expect(imageIds(afterFourth['eu-west-1'] as Inventory)).toEqual(
      [image(2, 'eu-west-1'), image(4, 'eu-west-1')].sort(),
    );
  });

  it('in a dry run (ami-bake retire --local --dry-run) lists what would go and changes nothing', () => {
    expect(dryRun.code).toBe(0);
    expect(dryRun.report.dryRun).toBe(true);
    expect(dryRun.report.regions['us-east-1']?.retired.map((i) => i.imageId)).toEqual([
      image(1, 'us-east-1'),
    ]);
    expect(
      dryRun.report.regions['us-east-1']?.kept.find((k) => k.imageId === image(2, 'us-east-1'))?.reasons[0]
        ?.kind,
    ).toBe('launch-configuration');
    for (const r of regions) {
      expect(imageIds(afterDryRun[r] as Inventory)).toEqual(imageIds(afterThird[r] as Inventory));
      expect(snapshotIds(afterDryRun[r] as Inventory).sort()).toEqual(
        snapshotIds(afterThird[r] as Inventory).sort(),
      );
    }
  });

  it('says in the bake result what was retired and kept', () => {
    expect(bakes[0]?.retention?.[0]?.regions['us-east-1']?.kept.map((k) => k.imageId)).toEqual([
      image(1, 'us-east-1'),
    ]);
    expect(bakes[3]?.retention?.[0]?.regions['eu-west-1']?.retired.map((i) => i.imageId)).toEqual([
      image(3, 'eu-west-1'),
    ]);
  });
});
