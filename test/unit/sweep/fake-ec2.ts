import {
  CreateTagsCommand,
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  type Filter,
  type Tag,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import type { Ec2Send } from '../../../lib/aws/ec2.js';
import { awsError } from '../functions/fixtures.js';

/**
 * A small stateful EC2, one world per region: enough (states, tags, dates, filters) for the
 * sweeper's describes and for the cleanup core it reuses to really change what a later describe
 * sees. Unknown commands and filters throw, so a test cannot pass by accident.
 */
export interface World {
  instances: { id: string; state: string; tags: Tag[]; launched: Date }[];
  images: { id: string; tags: Tag[]; snapshotIds: string[]; created: Date }[];
  snapshots: { id: string; tags: Tag[]; started: Date }[];
  /** Every call fails, as a region the account has not enabled would. */
  broken?: boolean;
}

export const NOW = new Date('2026-11-26T12:00:00.000Z');
export const hoursAgo = (h: number): Date => new Date(NOW.getTime() - h * 3_600_000);
/** STACK_NAME is unset in tests: the local default. */
export const STACK = 'ami-bake-local';
export const bakeTag = (bakeId: string, stack = STACK): Tag[] => [
  { Key: 'ami-bake:bake-id', Value: bakeId },
  { Key: 'ami-bake:stack', Value: stack },
];

/** A bake's builder, image and snapshot in a world, created `age` hours before NOW, by `stack`. */
export function bakeIn(
  world: World,
  bakeId: string,
  n: number,
  age = 1,
  state = 'stopped',
  stack = STACK,
): World {
  const at = hoursAgo(age);
  const tags = bakeTag(bakeId, stack);
  world.instances.push({ id: `i-${n}`, state, tags, launched: at });
  world.images.push({ id: `ami-${n}`, tags, snapshotIds: [`snap-${n}`], created: at });
  world.snapshots.push({ id: `snap-${n}`, tags, started: at });
  return world;
}

export const emptyWorld = (): World => ({ instances: [], images: [], snapshots: [] });

function matches(tags: Tag[], filters: Filter[] = [], state?: string): boolean {
  return filters.every((f) => {
    if (f.Name === 'instance-state-name') return f.Values?.includes(state ?? '') ?? false;
    if (f.Name === 'tag-key') return tags.some((t) => f.Values?.includes(t.Key ?? ''));
    if (f.Name?.startsWith('tag:'))
      return tags.some((t) => `tag:${t.Key}` === f.Name && f.Values?.includes(t.Value ?? ''));
    throw new Error(`the fake EC2 does not know filter ${f.Name}`);
  });
}

export function fakeEc2(worlds: Record<string, World>) {
  const calls: { region: string; command: string }[] = [];
  const client = (region: string): Ec2Send => ({
    send: (async (command: unknown) => {
      const w = worlds[region];
      if (!w) throw new Error(`test asked for an EC2 client in unexpected region ${region}`);
      calls.push({ region, command: (command as object).constructor.name });
      if (w.broken) throw awsError('AuthFailure', `${region} is not enabled`);
      return handle(w, command);
    }) as Ec2Send['send'],
  });
  const mutations = () => calls.filter((c) => !c.command.startsWith('Describe'));
  return { ec2: client, calls, mutations };
}

function handle(w: World, command: unknown): unknown {
  if (command instanceof DescribeInstancesCommand) {
    const { Filters } = command.input;
    const found = w.instances.filter((i) => matches(i.tags, Filters, i.state));
    return {
      Reservations: [
        { Instances: found.map((i) => ({ InstanceId: i.id, Tags: i.tags, LaunchTime: i.launched })) },
      ],
    };
  }
  if (command instanceof TerminateInstancesCommand) {
    for (const i of w.instances) if (command.input.InstanceIds?.includes(i.id)) i.state = 'terminated';
    return {};
  }
  if (command instanceof DescribeImagesCommand) {
    if (command.input.Owners?.join() !== 'self')
      throw new Error('images must be described with Owners [self]');
    const found = w.images.filter((i) => matches(i.tags, command.input.Filters));
    return {
      Images: found.map((i) => ({
        ImageId: i.id,
        Tags: i.tags,
        CreationDate: i.created.toISOString(),
        BlockDeviceMappings: i.snapshotIds.map((SnapshotId) => ({ Ebs: { SnapshotId } })),
      })),
    };
  }
  if (command instanceof DeregisterImageCommand) {
    w.images = w.images.filter((i) => i.id !== command.input.ImageId);
    return {};
  }
  if (command instanceof DescribeSnapshotsCommand) {
    const found = w.snapshots.filter((s) => matches(s.tags, command.input.Filters));
    return { Snapshots: found.map((s) => ({ SnapshotId: s.id, Tags: s.tags, StartTime: s.started })) };
  }
  if (command instanceof CreateTagsCommand) {
    const ids = command.input.Resources ?? [];
    const snapshots = w.snapshots.filter((s) => ids.includes(s.id));
    if (snapshots.length !== ids.length) throw awsError('InvalidSnapshot.NotFound');
    for (const s of snapshots) s.tags.push(...(command.input.Tags ?? []));
    return {};
  }
  if (command instanceof DeleteSnapshotCommand) {
    if (!w.snapshots.some((s) => s.id === command.input.SnapshotId))
      throw awsError('InvalidSnapshot.NotFound');
    w.snapshots = w.snapshots.filter((s) => s.id !== command.input.SnapshotId);
    return {};
  }
  throw new Error(`the fake EC2 does not implement ${(command as object).constructor.name}`);
}

/** What is left of a world, for assertions on state rather than calls. */
export function left(w: World) {
  return {
    liveInstances: w.instances.filter((i) => i.state !== 'terminated').map((i) => i.id),
    images: w.images.map((i) => i.id),
    snapshots: w.snapshots.map((s) => s.id),
  };
}
