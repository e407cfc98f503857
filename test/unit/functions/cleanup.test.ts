import {
  CreateTagsCommand,
  type CreateTagsCommandInput,
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  DisableImageDeregistrationProtectionCommand,
  type Filter,
  type Tag,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import 'aws-sdk-client-mock-vitest/extend';
import { describe, expect, it } from 'vitest';
import { cleanup } from '../../../lib/cleanup/core.js';
import { knownResources } from '../../../lib/cleanup/known.js';
import { reportOf } from '../../../lib/cleanup/report.js';
import { CleanupIncompleteError } from '../../../lib/errors.js';
import { awsError, BAKE_ID, BUILD_REGION, regionalEc2 } from './fixtures.js';

/**
 * A tiny EC2 per region behind the mocked clients: enough state (instances, images, snapshots,
 * tags) that a second cleanup really finds what the first one left.
 */
interface World {
  instances: { id: string; state: string; tags: Tag[]; lagging?: boolean }[];
  images: { id: string; tags: Tag[]; snapshotIds: string[]; lagging?: boolean; protection?: string }[];
  snapshots: { id: string; tags: Tag[]; lagging?: boolean }[];
}
// `lagging`: just created, so describes with filters do not show it yet; describes by id do.

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

/** Like EC2: a describe by ids fails as a whole when one of them does not exist. */
function byIds<T extends { id: string; lagging?: boolean }>(
  items: T[],
  ids: string[] | undefined,
  filters: Filter[] | undefined,
  notFound: string,
  keep: (item: T) => boolean,
): T[] {
  if (!ids?.length) return items.filter((i) => !i.lagging && keep(i));
  const found = ids.map((id) => items.find((i) => i.id === id));
  if (found.some((i) => !i)) throw awsError(notFound);
  return (found as T[]).filter((i) => filters === undefined || keep(i));
}

function fakeEc2(worlds: Record<string, World>) {
  const { ec2, mock } = regionalEc2(Object.keys(worlds));
  for (const [region, w] of Object.entries(worlds)) {
    const m = mock(region);
    m.on(DescribeInstancesCommand).callsFake(async ({ Filters, InstanceIds }) => ({
      Reservations: [
        {
          Instances: byIds(w.instances, InstanceIds, Filters, 'InvalidInstanceID.NotFound', (i) =>
            matches(i.tags, Filters, i.state),
          ).map((i) => ({ InstanceId: i.id, State: { Name: i.state as never }, Tags: i.tags })),
        },
      ],
    }));
    m.on(TerminateInstancesCommand).callsFake(async ({ InstanceIds = [] }) => {
      for (const i of w.instances) if (InstanceIds.includes(i.id)) i.state = 'terminated';
      return {};
    });
    m.on(DescribeImagesCommand).callsFake(async ({ Filters, ImageIds }) => ({
      Images: byIds(w.images, ImageIds, Filters, 'InvalidAMIID.NotFound', (i) =>
        matches(i.tags, Filters),
      ).map((i) => ({
        ImageId: i.id,
        State: 'available' as const,
        Tags: i.tags,
        BlockDeviceMappings: i.snapshotIds.map((SnapshotId) => ({ Ebs: { SnapshotId } })),
        DeregistrationProtection: i.protection,
      })),
    }));
    // Like EC2: a protected image cannot be deregistered.
    m.on(DeregisterImageCommand).callsFake(async ({ ImageId }) => {
      if (w.images.find((i) => i.id === ImageId)?.protection?.startsWith('enabled'))
        throw awsError('OperationNotPermitted');
      w.images = w.images.filter((i) => i.id !== ImageId);
      return {};
    });
    m.on(DisableImageDeregistrationProtectionCommand).callsFake(async ({ ImageId }) => {
      for (const i of w.images) if (i.id === ImageId) i.protection = 'disabled';
      return {};
    });
    m.on(DescribeSnapshotsCommand).callsFake(async ({ Filters, SnapshotIds }) => ({
      Snapshots: byIds(w.snapshots, SnapshotIds, Filters, 'InvalidSnapshot.NotFound', (s) =>
        matches(s.tags, Filters),
      ).map((s) => ({ SnapshotId: s.id, Tags: s.tags })),
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
      // The source image's snapshot, tagged at creation (CreateImage TagSpecifications).
      images: [{ id: 'ami-0source000000001', tags: [...ours], snapshotIds: ['snap-0source00000001'] }],
      snapshots: [
        { id: 'snap-0source00000001', tags: [...ours] },
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
        { region: BUILD_REGION, snapshotId: 'snap-0source00000001' },
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

/** A bake that failed seconds after creating things: tag lookups do not show them yet. */
function justCreated(): Record<string, World> {
  return {
    [BUILD_REGION]: {
      instances: [{ id: 'i-0builder00000001', state: 'running', tags: [...ours], lagging: true }],
      images: [
        { id: 'ami-0source000000001', tags: [...ours], snapshotIds: ['snap-0source0000001'], lagging: true },
      ],
      snapshots: [{ id: 'snap-0source0000001', tags: [...ours], lagging: true }],
    },
    'eu-west-1': {
      instances: [],
      images: [
        { id: 'ami-0copyeu00000001', tags: [...ours], snapshotIds: ['snap-0copyeu00000001'], lagging: true },
      ],
      snapshots: [{ id: 'snap-0copyeu00000001', tags: [...ours], lagging: true }],
    },
  };
}

/** What the execution's state names (builder, image, imageReady, copies), as the handler passes it. */
const known = {
  instances: [
    { region: BUILD_REGION, instanceId: 'i-0builder00000001', launchedAt: '2026-11-26T04:40:05.000Z' },
  ],
  images: [
    { region: BUILD_REGION, imageId: 'ami-0source000000001' },
    { region: 'eu-west-1', imageId: 'ami-0copyeu00000001' },
  ],
  snapshots: [
    { region: BUILD_REGION, snapshotId: 'snap-0source0000001' },
    { region: 'eu-west-1', snapshotId: 'snap-0copyeu00000001' },
  ],
};
const later = (minutes: number) => () => new Date(Date.parse('2026-11-26T04:40:05.000Z') + minutes * 60_000);

describe('cleanup, with the ids the execution state already holds', () => {
  it('removes the builder, images and snapshots named in the state although tag lookups do not show them yet', async () => {
    // Prepare
    const worlds = justCreated();
    const { ec2 } = fakeEc2(worlds);

    // Act
    const report = await cleanup({ bakeId: BAKE_ID, regions: [BUILD_REGION], known }, { ec2, now: later(1) });

    // Assess
    expect(report.terminatedInstances).toEqual([{ region: BUILD_REGION, instanceId: 'i-0builder00000001' }]);
    expect(report.deregisteredImages).toEqual(expect.arrayContaining(known.images));
    expect(report.deletedSnapshots).toEqual(expect.arrayContaining(known.snapshots));
    expect(report.problems).toEqual([]);
    expect(worlds[BUILD_REGION]?.instances[0]?.state).toBe('terminated');
    expect(worlds[BUILD_REGION]?.images).toEqual([]);
    expect(worlds['eu-west-1']).toEqual({ instances: [], images: [], snapshots: [] });
  });

  it('never touches a resource named in the state that does not carry the bake-id tag', async () => {
    // Prepare
    const worlds: Record<string, World> = {
      [BUILD_REGION]: {
        instances: [{ id: 'i-0builder00000001', state: 'running', tags: [...theirs] }],
        images: [{ id: 'ami-0source000000001', tags: [], snapshotIds: ['snap-0source0000001'] }],
        snapshots: [{ id: 'snap-0source0000001', tags: [...theirs] }],
      },
    };
    const { ec2, mock } = fakeEc2(worlds);

    // Act
    const report = await cleanup(
      {
        bakeId: BAKE_ID,
        regions: [BUILD_REGION],
        known: {
          instances: known.instances,
          images: [{ region: BUILD_REGION, imageId: 'ami-0source000000001' }],
          snapshots: [{ region: BUILD_REGION, snapshotId: 'snap-0source0000001' }],
        },
      },
      { ec2, now: later(1) },
    );

    // Assess
    expect(report).toEqual({
      terminatedInstances: [],
      deregisteredImages: [],
      deletedSnapshots: [],
      problems: [],
    });
    expect(mock(BUILD_REGION)).not.toHaveReceivedCommand(TerminateInstancesCommand);
    expect(mock(BUILD_REGION)).not.toHaveReceivedCommand(DeregisterImageCommand);
    expect(mock(BUILD_REGION)).not.toHaveReceivedCommand(DeleteSnapshotCommand);
    expect(mock(BUILD_REGION)).not.toHaveReceivedCommand(CreateTagsCommand);
  });

  it('treats an image or snapshot named in the state that no longer exists as gone, not as a problem', async () => {
    // Prepare
    const { ec2 } = fakeEc2({ [BUILD_REGION]: { instances: [], images: [], snapshots: [] } });

    // Act
    const report = await cleanup(
      {
        bakeId: BAKE_ID,
        regions: [BUILD_REGION],
        known: { images: known.images.slice(0, 1), snapshots: known.snapshots.slice(0, 1) },
      },
      { ec2, now: later(1) },
    );

    // Assess
    expect(report.problems).toEqual([]);
  });

  it('retries (CleanupIncompleteError) a builder launched minutes ago that EC2 does not show yet', async () => {
    // Prepare
    const { ec2 } = fakeEc2({ [BUILD_REGION]: { instances: [], images: [], snapshots: [] } });

    // Act
    const result = cleanup(
      { bakeId: BAKE_ID, regions: [BUILD_REGION], known: { instances: known.instances } },
      { ec2, now: later(1) },
    );

    // Assess
    await expect(result).rejects.toBeInstanceOf(CleanupIncompleteError);
    await expect(result).rejects.toThrow(/i-0builder00000001.*not visible yet/);
  });

  it('treats a builder that EC2 no longer knows hours after its launch as gone', async () => {
    // Prepare
    const { ec2 } = fakeEc2({ [BUILD_REGION]: { instances: [], images: [], snapshots: [] } });

    // Act
    const report = await cleanup(
      { bakeId: BAKE_ID, regions: [BUILD_REGION], known: { instances: known.instances } },
      { ec2, now: later(180) },
    );

    // Assess
    expect(report.problems).toEqual([]);
  });

  it('visits a region that only the state names', async () => {
    // Prepare
    const worlds = justCreated();
    const { ec2 } = fakeEc2(worlds);

    // Act
    await cleanup({ bakeId: BAKE_ID, regions: [BUILD_REGION], known }, { ec2, now: later(1) });

    // Assess
    expect(worlds['eu-west-1']?.images).toEqual([]);
  });
});

describe('cleanup, the order of removal and the report across attempts', () => {
  it('leaves alone an untagged snapshot behind its image: bake tags are set only at creation, and IAM would refuse', async () => {
    // Prepare: a snapshot made before snapshots were tagged at creation.
    const worlds = bakeLeftovers();
    const image = worlds[BUILD_REGION]?.images[0];
    if (image) image.snapshotIds = ['snap-0untagged000001'];
    worlds[BUILD_REGION]?.snapshots.push({ id: 'snap-0untagged000001', tags: [] });
    const { ec2, mock } = fakeEc2(worlds);

    // Act
    const report = await cleanup({ bakeId: BAKE_ID, regions: [BUILD_REGION] }, { ec2 });

    // Assess
    expect(mock(BUILD_REGION)).not.toHaveReceivedCommand(CreateTagsCommand);
    expect(report.deregisteredImages).toEqual([{ region: BUILD_REGION, imageId: 'ami-0source000000001' }]);
    expect(report.deletedSnapshots).not.toContainEqual({
      region: BUILD_REGION,
      snapshotId: 'snap-0untagged000001',
    });
    expect(worlds[BUILD_REGION]?.snapshots.find((s) => s.id === 'snap-0untagged000001')?.tags).toEqual([]);
  });

  it("lifts the deregistration protection FinalizeImage set on the bake's images before deregistering them", async () => {
    // Prepare: FinalizeImage protected every copy, then a later state failed.
    const world = bakeLeftovers();
    for (const w of Object.values(world)) for (const i of w.images) i.protection = 'enabled-without-cooldown';
    const { ec2, mock } = fakeEc2(world);

    // Act
    const report = await cleanup({ bakeId: BAKE_ID, regions: [BUILD_REGION, 'eu-west-1'] }, { ec2 });

    // Assess
    expect(report.deregisteredImages).toHaveLength(2);
    expect(world[BUILD_REGION]?.images).toEqual([]);
    expect(world['eu-west-1']?.images).toEqual([]);
    expect(mock('eu-west-1')).toHaveReceivedCommandWith(DisableImageDeregistrationProtectionCommand, {
      ImageId: 'ami-0copyeu00000001',
    });
  });

  it('never lifts the protection of an image that is not protected', async () => {
    // Act
    const { ec2, mock } = fakeEc2(bakeLeftovers());
    await cleanup({ bakeId: BAKE_ID, regions: [BUILD_REGION] }, { ec2 });

    // Assess
    expect(mock(BUILD_REGION)).not.toHaveReceivedCommand(DisableImageDeregistrationProtectionCommand);
  });

  it('deregisters, then deletes, and never tags', async () => {
    // Prepare
    const { ec2, mock } = fakeEc2(bakeLeftovers());

    // Act
    await cleanup({ bakeId: BAKE_ID, regions: [BUILD_REGION] }, { ec2 });

    // Assess
    const order = mock(BUILD_REGION)
      .calls()
      .map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name)
      .filter((n) => ['CreateTagsCommand', 'DeregisterImageCommand', 'DeleteSnapshotCommand'].includes(n));
    expect(order).toEqual(['DeregisterImageCommand', 'DeleteSnapshotCommand']);
  });

  it('reports again, on a retried attempt, what the state names and earlier attempts removed', async () => {
    // Prepare: the first attempt removed everything (its report lost with its error).
    const worlds = justCreated();
    const { ec2 } = fakeEc2(worlds);
    await cleanup({ bakeId: BAKE_ID, regions: [BUILD_REGION], known }, { ec2, now: later(1) });

    // Act
    const retry = await cleanup({ bakeId: BAKE_ID, regions: [BUILD_REGION], known }, { ec2, now: later(2) });

    // Assess
    expect(retry.terminatedInstances).toEqual([{ region: BUILD_REGION, instanceId: 'i-0builder00000001' }]);
    expect(retry.deregisteredImages).toEqual(expect.arrayContaining(known.images));
    expect(retry.deletedSnapshots).toEqual(expect.arrayContaining(known.snapshots));
    expect(retry.problems).toEqual([]);
  });

  it('carries what it did remove in the CleanupIncompleteError, for the Bake Failed event', async () => {
    // Prepare
    const worlds = bakeLeftovers();
    const { ec2, mock } = fakeEc2(worlds);
    mock('eu-west-1').on(DescribeInstancesCommand).rejects(awsError('UnauthorizedOperation', 'not allowed'));

    // Act
    const error = await cleanup({ bakeId: BAKE_ID, regions: [BUILD_REGION, 'eu-west-1'] }, { ec2 }).catch(
      (e: unknown) => e as Error,
    );

    // Assess
    expect(error).toBeInstanceOf(CleanupIncompleteError);
    expect(reportOf((error as Error).message)).toEqual({
      terminatedInstances: [{ region: BUILD_REGION, instanceId: 'i-0builder00000001' }],
      deregisteredImages: [{ region: BUILD_REGION, imageId: 'ami-0source000000001' }],
      deletedSnapshots: [{ region: BUILD_REGION, snapshotId: 'snap-0source00000001' }],
      problems: ['eu-west-1: UnauthorizedOperation: not allowed'],
    });
  });
});

describe('knownResources', () => {
  it('collects the builder, the image, its snapshots and every copy from the execution state', () => {
    // Act
    const found = knownResources({
      bakeId: BAKE_ID,
      builder: { instanceId: 'i-0builder00000001', region: BUILD_REGION, at: '2026-11-26T04:40:05.000Z' },
      image: { imageId: 'ami-0source000000001', region: BUILD_REGION, at: '2026-11-26T04:45:07.000Z' },
      imageReady: { imageId: 'ami-0source000000001', snapshotIds: ['snap-0source0000001'], at: 'x' },
      copies: [
        {
          region: 'eu-west-1',
          imageId: 'ami-0copyeu00000001',
          snapshotIds: ['snap-0copyeu00000001'],
          at: 'x',
        },
      ],
    });

    // Assess
    expect(found).toEqual(known);
  });

  it('takes the images of FinalizeImage when it ran, and ignores parts that are missing or malformed', () => {
    // Act
    const found = knownResources({
      bakeId: BAKE_ID,
      builder: 'garbage',
      finalized: {
        images: { 'eu-west-1': { imageId: 'ami-0copyeu00000001', snapshotIds: ['snap-0copyeu00000001'] } },
        at: 'x',
      },
    });

    // Assess
    expect(found).toEqual({
      instances: [],
      images: [{ region: 'eu-west-1', imageId: 'ami-0copyeu00000001' }],
      snapshots: [{ region: 'eu-west-1', snapshotId: 'snap-0copyeu00000001' }],
    });
  });
});

describe('cleanup of a request with several architectures', () => {
  it("removes every child's resources, found by each child's bake-id tag, and nothing else", async () => {
    // Prepare: the children tag with their own bake ids; the request itself created nothing.
    const child = (architecture: string): Tag[] => [
      { Key: 'ami-bake:bake-id', Value: `${BAKE_ID}-${architecture}` },
    ];
    const worlds: Record<string, World> = {
      [BUILD_REGION]: {
        instances: [
          { id: 'i-0armbuilder00001', state: 'running', tags: child('arm64') },
          { id: 'i-0other000000001', state: 'running', tags: [...theirs] },
        ],
        images: [{ id: 'ami-0x86image000001', tags: child('x86_64'), snapshotIds: ['snap-0x86000000001'] }],
        snapshots: [{ id: 'snap-0x86000000001', tags: child('x86_64') }],
      },
    };
    const { ec2 } = fakeEc2(worlds);

    // Act
    const report = await cleanup(
      { bakeId: BAKE_ID, regions: [BUILD_REGION], members: [`${BAKE_ID}-x86_64`, `${BAKE_ID}-arm64`] },
      { ec2 },
    );

    // Assess
    expect(report.terminatedInstances).toEqual([{ region: BUILD_REGION, instanceId: 'i-0armbuilder00001' }]);
    expect(report.deregisteredImages).toEqual([{ region: BUILD_REGION, imageId: 'ami-0x86image000001' }]);
    expect(report.deletedSnapshots).toEqual([{ region: BUILD_REGION, snapshotId: 'snap-0x86000000001' }]);
    expect(worlds[BUILD_REGION]?.instances.find((i) => i.id === 'i-0other000000001')?.state).toBe('running');
  });
});
