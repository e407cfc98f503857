import {
  CopyImageCommand,
  CreateImageCommand,
  CreateTagsCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { type SweepReport, sweepLeftovers } from '../../functions/sweep-leftovers/core.js';
import { ec2 as libEc2 } from '../../lib/aws/ec2.js';
import { logger } from '../../lib/logger.js';
import { TAG } from '../../lib/tags.js';
import { type LocalBakeResult, runLocalBake } from '../../local/runner.js';
import { ec2, inventories, recipe, useEmulator } from './helpers.js';

const regions = ['us-east-1', 'eu-west-1', 'ap-southeast-2'];
const HOUR = 3_600_000;
const ABORTED = 'bake-aborted-by-hand-0001';
const YOUNG = 'bake-unknown-young-0003';
const OLD = 'bake-unknown-old-0004';
const UNANNOUNCED = 'bake-unannounced-0005';
/** How DescribeExecution shows a bake whose images were delivered but not announced. */
const UNANNOUNCED_EXECUTION = { status: 'FAILED', error: 'BakeSucceededNotAnnounced' };

interface Leak {
  instanceId: string;
  imageId: string;
  snapshotIds: string[];
  copy?: { imageId: string; snapshotIds: string[] };
}

/** What a bake interrupted between CreateImage and TerminateBuilder leaves: a live builder and its image. */
async function leak(bakeId: string, copyTo?: string): Promise<Leak> {
  // As lineageTags sets them: the sweeper looks only at its own stack's (the local default here).
  const tags = [
    { Key: TAG.bakeId, Value: bakeId },
    { Key: TAG.stack, Value: 'ami-bake-local' },
  ];
  const { Parameter } = await new SSMClient({ region: 'us-east-1', maxAttempts: 1 }).send(
    new GetParameterCommand({
      Name: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
    }),
  );
  const { Instances = [] } = await ec2('us-east-1').send(
    new RunInstancesCommand({
      ImageId: Parameter?.Value,
      InstanceType: 't3.micro',
      MinCount: 1,
      MaxCount: 1,
      TagSpecifications: [{ ResourceType: 'instance', Tags: tags }],
    }),
  );
  const instanceId = Instances[0]?.InstanceId ?? '';
  const { ImageId = '' } = await ec2('us-east-1').send(
    new CreateImageCommand({
      InstanceId: instanceId,
      Name: `${bakeId}-image`,
      TagSpecifications: [{ ResourceType: 'image', Tags: tags }],
    }),
  );
  const snapshotIds = await tagSnapshotsOf('us-east-1', ImageId, tags);
  if (!copyTo) return { instanceId, imageId: ImageId, snapshotIds };
  const copy = await ec2(copyTo).send(
    new CopyImageCommand({ SourceImageId: ImageId, SourceRegion: 'us-east-1', Name: `${bakeId}-image` }),
  );
  const copyId = copy.ImageId ?? '';
  // The emulator copies no tags (CopyImage in copy-image/core.ts tags the copy the same way).
  await ec2(copyTo).send(new CreateTagsCommand({ Resources: [copyId], Tags: tags }));
  const copySnapshots = await tagSnapshotsOf(copyTo, copyId, tags);
  return { instanceId, imageId: ImageId, snapshotIds, copy: { imageId: copyId, snapshotIds: copySnapshots } };
}

async function tagSnapshotsOf(region: string, imageId: string, tags: { Key: string; Value: string }[]) {
  const { Images = [] } = await ec2(region).send(new DescribeImagesCommand({ ImageIds: [imageId] }));
  const ids = (Images[0]?.BlockDeviceMappings ?? []).flatMap((m) =>
    m.Ebs?.SnapshotId ? [m.Ebs.SnapshotId] : [],
  );
  if (ids.length > 0) await ec2(region).send(new CreateTagsCommand({ Resources: ids, Tags: tags }));
  return ids;
}

async function instanceState(instanceId: string) {
  const { Reservations = [] } = await ec2('us-east-1').send(
    new DescribeInstancesCommand({ InstanceIds: [instanceId] }),
  );
  return Reservations[0]?.Instances?.[0]?.State?.Name;
}

async function images(region: string, imageIds: string[]): Promise<string[]> {
  const { Images = [] } = await ec2(region).send(
    new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'image-id', Values: imageIds }] }),
  );
  return Images.map((i) => i.ImageId ?? '').sort();
}

async function snapshots(region: string, snapshotIds: string[]): Promise<string[]> {
  const { Snapshots = [] } = await ec2(region).send(
    new DescribeSnapshotsCommand({ Filters: [{ Name: 'snapshot-id', Values: snapshotIds }] }),
  );
  return Snapshots.map((s) => s.SnapshotId ?? '').sort();
}

/** The newest creation time of a leak, as the emulator recorded it. */
async function createdAt(l: Leak): Promise<number> {
  const { Images = [] } = await ec2('us-east-1').send(new DescribeImagesCommand({ ImageIds: [l.imageId] }));
  const { Snapshots = [] } = await ec2('us-east-1').send(
    new DescribeSnapshotsCommand({ SnapshotIds: l.snapshotIds }),
  );
  const { Reservations = [] } = await ec2('us-east-1').send(
    new DescribeInstancesCommand({ InstanceIds: [l.instanceId] }),
  );
  return Math.max(
    new Date(Images[0]?.CreationDate ?? 0).getTime(),
    ...Snapshots.map((s) => s.StartTime?.getTime() ?? 0),
    Reservations[0]?.Instances?.[0]?.LaunchTime?.getTime() ?? 0,
  );
}

describe('the sweeper against the emulator', () => {
  useEmulator();
  vi.spyOn(logger, 'info').mockImplementation(() => undefined);
  let succeeded: LocalBakeResult;
  let failed: LocalBakeResult;
  let stray: Leak;
  let aborted: Leak;
  let old: Leak;
  let young: Leak;
  let unannounced: Leak;
  let dryRun: SweepReport;
  let dryRunChanged: boolean;
  let report: SweepReport;

  beforeAll(async () => {
    succeeded = await runLocalBake({ recipe: await recipe(), region: 'us-east-1' });
    failed = await runLocalBake({ recipe: await recipe(), region: 'us-east-1', builder: 'fail' });
    // The succeeded bake's builder was terminated; a second one (a retried launch, say) was not.
    stray = await leak(succeeded.bakeId);
    aborted = await leak(ABORTED, 'eu-west-1');
    old = await leak(OLD);
    // Its execution ended FAILED only because Bake Succeeded could not be published.
    unannounced = await leak(UNANNOUNCED, 'eu-west-1');
    // Creation times in the emulator are the real clock's, to the second: "old" is the clock.
    await new Promise((r) => setTimeout(r, 2_500));
    young = await leak(YOUNG);
    const sweepNow = new Date((await createdAt(old)) + 24 * HOUR + 1_000);

    const statuses: Record<string, string> = {
      [succeeded.bakeId]: 'SUCCEEDED',
      [failed.bakeId]: 'FAILED',
      [ABORTED]: 'ABORTED',
    };
    const deps = {
      ec2: libEc2,
      describeExecution: async (bakeId: string) => {
        if (bakeId === UNANNOUNCED) return UNANNOUNCED_EXECUTION;
        const status = statuses[bakeId];
        return status ? { status } : undefined;
      },
      now: () => sweepNow,
    };
    // Old bakes without an execution lose everything here; by default only their builders go.
    const options = { regions, graceHours: 24, unknownBakes: 'everything' as const };
    const before = await inventories(regions);
    dryRun = await sweepLeftovers({ ...options, dryRun: true }, deps);
    dryRunChanged = JSON.stringify(await inventories(regions)) !== JSON.stringify(before);
    report = await sweepLeftovers({ ...options, dryRun: false }, deps);
  });

  it('baked one image per region and failed the other bake, which cleaned up after itself', () => {
    expect(succeeded.status).toBe('succeeded');
    expect(Object.keys(succeeded.images).sort()).toEqual([...regions].sort());
    expect(failed.status).toBe('failed');
    expect(report.removed.map((r) => r.bakeId)).not.toContain(failed.bakeId);
    expect(report.kept.map((k) => k.bakeId)).not.toContain(failed.bakeId);
  });

  it('changes nothing in a dry run, and reports what the real sweep then removes', () => {
    expect(dryRunChanged).toBe(false);
    expect(dryRun.removed.map((r) => r.bakeId).sort()).toEqual(
      [ABORTED, OLD, UNANNOUNCED, succeeded.bakeId].sort(),
    );
    for (const swept of dryRun.removed) {
      const real = report.removed.find((r) => r.bakeId === swept.bakeId);
      expect(new Set(real?.terminatedInstances), swept.bakeId).toEqual(new Set(swept.terminatedInstances));
      expect(new Set(real?.deregisteredImages), swept.bakeId).toEqual(new Set(swept.deregisteredImages));
      expect(new Set(real?.deletedSnapshots), swept.bakeId).toEqual(new Set(swept.deletedSnapshots));
    }
  });

  it.each(regions)("keeps the succeeded bake's image and snapshots in %s", async (region) => {
    const image = succeeded.images[region];

    expect(await images(region, [image?.imageId ?? ''])).toEqual([image?.imageId]);
    expect(await snapshots(region, image?.snapshotIds ?? [])).toEqual([...(image?.snapshotIds ?? [])].sort());
  });

  it("terminates the succeeded bake's stray builder", async () => {
    expect(await instanceState(stray.instanceId)).toBe('terminated');
    expect(await images('us-east-1', [stray.imageId])).toEqual([stray.imageId]);
  });

  it("terminates the aborted bake's builder and removes its images and snapshots in every region", async () => {
    expect(await instanceState(aborted.instanceId)).toBe('terminated');
    expect(await images('us-east-1', [aborted.imageId])).toEqual([]);
    expect(await snapshots('us-east-1', aborted.snapshotIds)).toEqual([]);
    expect(await images('eu-west-1', [aborted.copy?.imageId ?? ''])).toEqual([]);
    expect(await snapshots('eu-west-1', aborted.copy?.snapshotIds ?? [])).toEqual([]);
    expect(aborted.snapshotIds.length).toBeGreaterThan(0);
  });

  it('terminates the builder of a bake that failed only to announce itself, and keeps its images and snapshots in every region', async () => {
    expect(await instanceState(unannounced.instanceId)).toBe('terminated');
    expect(await images('us-east-1', [unannounced.imageId])).toEqual([unannounced.imageId]);
    expect(await snapshots('us-east-1', unannounced.snapshotIds)).toEqual(
      [...unannounced.snapshotIds].sort(),
    );
    const copy = unannounced.copy;
    expect(await images('eu-west-1', [copy?.imageId ?? ''])).toEqual([copy?.imageId]);
    expect(await snapshots('eu-west-1', copy?.snapshotIds ?? [])).toEqual(
      [...(copy?.snapshotIds ?? [])].sort(),
    );
    expect(unannounced.snapshotIds.length).toBeGreaterThan(0);
  });

  it('keeps a bake without an execution while it is younger than the grace period', async () => {
    expect(await instanceState(young.instanceId)).toBe('running');
    expect(await images('us-east-1', [young.imageId])).toEqual([young.imageId]);
    expect(await snapshots('us-east-1', young.snapshotIds)).toEqual([...young.snapshotIds].sort());
    expect(report.kept).toContainEqual({ bakeId: YOUNG, reason: 'no execution, but younger than 24 h' });
  });

  it('removes a bake without an execution once it is older than the grace period, when told to remove everything', async () => {
    expect(await instanceState(old.instanceId)).toBe('terminated');
    expect(await images('us-east-1', [old.imageId])).toEqual([]);
    expect(await snapshots('us-east-1', old.snapshotIds)).toEqual([]);
  });

  it('inspected every region without a problem, and a second sweep finds nothing more to do', async () => {
    expect(report.problems).toEqual([]);
    expect(report.regions).toEqual(regions);
    const again = await sweepLeftovers(
      { regions, graceHours: 24, unknownBakes: 'builders', dryRun: false },
      {
        ec2: libEc2,
        describeExecution: async (bakeId) =>
          bakeId === succeeded.bakeId
            ? { status: 'SUCCEEDED' }
            : bakeId === UNANNOUNCED
              ? UNANNOUNCED_EXECUTION
              : undefined,
        now: () => new Date(),
      },
    );
    expect(again.removed).toEqual([]);
    expect(again.kept.map((k) => k.bakeId).sort()).toEqual([succeeded.bakeId, UNANNOUNCED, YOUNG].sort());
  });
});
