import {
  CreateTagsCommand,
  type CreateTagsCommandInput,
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  type Filter,
  type Tag,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import 'aws-sdk-client-mock-vitest/extend';
import { describe, expect, it } from 'vitest';
import { cleanup } from '../../../functions/cleanup/core.js';
import { CleanupIncompleteError } from '../../../lib/errors.js';
import { awsError, BAKE_ID, BUILD_REGION, regionalEc2 } from './fixtures.js';

/**
 * A tiny EC2 per region behind the mocked clients: enough state (instances, images, snapshots,
 * tags) that a second cleanup really finds what the first one left.
 */
interface World {
  instances: { id: string; state: string; tags: Tag[] }[];
  images: { id: string; tags: Tag[]; snapshotIds: string[] }[];
  snapshots: { id: string; tags: Tag[] }[];
}

const ours: Tag[] = [{ Key: 'ami-bake:bake-id', Value: BAKE_ID }];
const theirs: Tag[] = [{ Key: 'ami-bake:bake-id', Value: 'bake-someone-else-0001' }];

function matches(tags: Tag[], filters: Filter[] = [], state?: string): boolean {
  return filters.every((f) => {
    if (f.Name === 'instance-state-name') return f.Values?.includes(state ?? '') ?? false;
    if (f.Name?.startsWith('tag:'))
      return tags.some((t) => `tag:${t.Key}` === f.Name && f.Values?.includes(t.Value ?? ''));
    throw new Error(`the fake EC2 does not know filter ${f.Name}`);
  });
}

function fakeEc2(worlds: Record<string, World>) {
  const { ec2, mock } = regionalEc2(Object.keys(worlds));
  for (const [region, w] of Object.entries(worlds)) {
    const m = mock(region);
    m.on(DescribeInstancesCommand).callsFake(async ({ Filters }) => ({
      Reservations: [
        {
          Instances: w.instances
            .filter((i) => matches(i.tags, Filters, i.state))
            .map((i) => ({ InstanceId: i.id })),
        },
      ],
    }));
    m.on(TerminateInstancesCommand).callsFake(async ({ InstanceIds = [] }) => {
      for (const i of w.instances) if (InstanceIds.includes(i.id)) i.state = 'terminated';
      return {};
    });
    m.on(DescribeImagesCommand).callsFake(async ({ Filters }) => ({
      Images: w.images
        .filter((i) => matches(i.tags, Filters))
        .map((i) => ({
          ImageId: i.id,
          BlockDeviceMappings: i.snapshotIds.map((SnapshotId) => ({ Ebs: { SnapshotId } })),
        })),
    }));
    m.on(DeregisterImageCommand).callsFake(async ({ ImageId }) => {
      w.images = w.images.filter((i) => i.id !== ImageId);
      return {};
    });
    m.on(DescribeSnapshotsCommand).callsFake(async ({ Filters }) => ({
      Snapshots: w.snapshots.filter((s) => matches(s.tags, Filters)).map((s) => ({ SnapshotId: s.id })),
    }));
    m.on(CreateTagsCommand).callsFake(async ({ Resources, Tags }: CreateTagsCommandInput) => {
      const snapshots = (Resources ?? []).map((id) => w.snapshots.find((s) => s.id === id));
      if (snapshots.some((s) => !s)) throw awsError('InvalidSnapshot.NotFound');
      for (const s of snapshots) s?.tags.push(...(Tags ?? []));
      return {};
    });
    m.on(DeleteSnapshotCommand).callsFake(async ({ SnapshotId }) => {
      if (!w.snapshots.some((s) => s.id === SnapshotId)) throw awsError('InvalidSnapshot.NotFound');
      w.snapshots = w.snapshots.filter((s) => s.id !== SnapshotId);
      return {};
    });
  }
  return { ec2, mock };
}

function bakeLeftovers(): Record<string, World> {
  return {
    [BUILD_REGION]: {
      instances: [
        { id: 'i-0builder00000001', state: 'stopped', tags: [...ours] },
        { id: 'i-0other000000001', state: 'running', tags: [...theirs] },
      ],
      // The source image's snapshot is not tagged yet (FinalizeImage never ran).
      images: [{ id: 'ami-0source000000001', tags: [...ours], snapshotIds: ['snap-0untagged000001'] }],
      snapshots: [
        { id: 'snap-0untagged000001', tags: [] },
        { id: 'snap-0other00000001', tags: [...theirs] },
      ],
    },
    'eu-west-1': {
      instances: [],
      images: [{ id: 'ami-0copyeu00000001', tags: [...ours], snapshotIds: ['snap-0copyeu00000001'] }],
      // An orphan: its image was deregistered by an earlier, interrupted cleanup.
      snapshots: [
        { id: 'snap-0copyeu00000001', tags: [...ours] },
        { id: 'snap-0orphan0000001', tags: [...ours] },
      ],
    },
  };
}

describe('cleanup', () => {
  it("removes the bake's instances, images and snapshots in every region, and nothing else", async () => {
    // Prepare
    const worlds = bakeLeftovers();
    const { ec2 } = fakeEc2(worlds);

    // Act
    const report = await cleanup({ bakeId: BAKE_ID, regions: [BUILD_REGION, 'eu-west-1'] }, { ec2 });

    // Assess
    expect(report.terminatedInstances).toEqual([{ region: BUILD_REGION, instanceId: 'i-0builder00000001' }]);
    expect(report.deregisteredImages).toEqual(
      expect.arrayContaining([
        { region: BUILD_REGION, imageId: 'ami-0source000000001' },
        { region: 'eu-west-1', imageId: 'ami-0copyeu00000001' },
      ]),
    );
    expect(report.deletedSnapshots).toHaveLength(3);
    expect(report.problems).toEqual([]);
    expect(worlds[BUILD_REGION]?.instances.map((i) => [i.id, i.state])).toEqual([
      ['i-0builder00000001', 'terminated'],
      ['i-0other000000001', 'running'],
    ]);
    expect(worlds[BUILD_REGION]?.snapshots.map((s) => s.id)).toEqual(['snap-0other00000001']);
    expect(worlds['eu-west-1']).toEqual({ instances: [], images: [], snapshots: [] });
  });

  it("deletes snapshots found through the image's mappings and tagged orphans whose image is gone", async () => {
    // Prepare
    const { ec2 } = fakeEc2(bakeLeftovers());

    // Act
    const report = await cleanup({ bakeId: BAKE_ID, regions: [BUILD_REGION, 'eu-west-1'] }, { ec2 });

    // Assess
    expect(report.deletedSnapshots).toEqual(
      expect.arrayContaining([
        { region: BUILD_REGION, snapshotId: 'snap-0untagged000001' },
        { region: 'eu-west-1', snapshotId: 'snap-0copyeu00000001' },
        { region: 'eu-west-1', snapshotId: 'snap-0orphan0000001' },
      ]),
    );
  });

  it('finds and reports nothing on a second run', async () => {
    // Prepare
    const { ec2, mock } = fakeEc2(bakeLeftovers());
    await cleanup({ bakeId: BAKE_ID, regions: [BUILD_REGION, 'eu-west-1'] }, { ec2 });
    mock(BUILD_REGION).resetHistory();

    // Act
    const second = await cleanup({ bakeId: BAKE_ID, regions: [BUILD_REGION, 'eu-west-1'] }, { ec2 });

    // Assess
    expect(second).toEqual({
      terminatedInstances: [],
      deregisteredImages: [],
      deletedSnapshots: [],
      problems: [],
    });
    expect(mock(BUILD_REGION)).not.toHaveReceivedCommand(TerminateInstancesCommand);
  });

  it('visits a region listed twice only once', async () => {
    // Prepare
    const { ec2, mock } = fakeEc2(bakeLeftovers());

    // Act
    await cleanup({ bakeId: BAKE_ID, regions: [BUILD_REGION, 'eu-west-1', BUILD_REGION] }, { ec2 });

    // Assess
    expect(mock(BUILD_REGION)).toHaveReceivedCommandTimes(DescribeInstancesCommand, 1);
  });

  it('treats a snapshot that vanished meanwhile as deleted', async () => {
    // Prepare
    const worlds = bakeLeftovers();
    const { ec2, mock } = fakeEc2(worlds);
    mock(BUILD_REGION).on(DeleteSnapshotCommand).rejects(awsError('InvalidSnapshot.NotFound'));

    // Act
    const report = await cleanup({ bakeId: BAKE_ID, regions: [BUILD_REGION] }, { ec2 });

    // Assess
    expect(report.problems).toEqual([]);
    expect(report.deregisteredImages).toEqual([{ region: BUILD_REGION, imageId: 'ami-0source000000001' }]);
  });

  it('cleans every other region before failing with CleanupIncompleteError naming the region that failed', async () => {
    // Prepare
    const worlds = bakeLeftovers();
    const { ec2, mock } = fakeEc2(worlds);
    mock(BUILD_REGION).on(DescribeInstancesCommand).rejects(awsError('UnauthorizedOperation', 'not allowed'));

    // Act
    const result = cleanup({ bakeId: BAKE_ID, regions: [BUILD_REGION, 'eu-west-1'] }, { ec2 });

    // Assess
    await expect(result).rejects.toBeInstanceOf(CleanupIncompleteError);
    await expect(result).rejects.toThrow(`${BUILD_REGION}: UnauthorizedOperation: not allowed`);
    expect(worlds['eu-west-1']).toEqual({ instances: [], images: [], snapshots: [] });
  });
});
