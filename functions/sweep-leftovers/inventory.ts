import {
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  type Filter,
  type Tag,
} from '@aws-sdk/client-ec2';
import type { Ec2Send } from '../../lib/aws/ec2.js';
import { snapshotIdsOf } from '../../lib/aws/images.js';
import { pages } from '../../lib/aws/pages.js';
import { config } from '../../lib/config.js';
import { TAG } from '../../lib/tags.js';

/** One resource a bake created, as the sweeper found it. */
export interface Leftover {
  kind: 'instance' | 'image' | 'snapshot';
  id: string;
  region: string;
  bakeId: string;
  /** LaunchTime, CreationDate or StartTime; undefined when EC2 did not say (treated as new). */
  createdAt?: Date;
  /** Of an image: the snapshots behind it, which its deregistration leaves behind. */
  snapshotIds?: string[];
  /** Of an instance: a Spot builder, whose persistent request is cancelled before it is terminated. */
  spot?: true;
}

/**
 * This stack's resources only: another stage's are its own sweeper's to judge, and this stack's
 * roles may not touch them anyway (docs/security.md, "Permission boundary").
 */
const tagged = (stack: string): Filter => ({ Name: `tag:${TAG.stack}`, Values: [stack] });
/** Terminated instances cost nothing and vanish on their own; shutting-down ones are going. */
const LIVE = ['pending', 'running', 'stopping', 'stopped'];

/**
 * Everything in a region that this stack's bakes made: one Describe per resource type (paged),
 * filtered by the stack tag, so the sweeper depends on no state and no memory of what it did before.
 */
export async function findLeftovers(
  ec2: Ec2Send,
  region: string,
  stack: string = config().STACK_NAME,
): Promise<Leftover[]> {
  const [instances, images, snapshots] = await Promise.all([
    pages(async (NextToken) => {
      const page = await ec2.send(
        new DescribeInstancesCommand({
          Filters: [tagged(stack), { Name: 'instance-state-name', Values: LIVE }],
          NextToken,
        }),
      );
      const items = (page.Reservations ?? []).flatMap((r) => r.Instances ?? []);
      return { items, next: page.NextToken };
    }),
    pages(async (NextToken) => {
      const page = await ec2.send(
        new DescribeImagesCommand({ Owners: ['self'], Filters: [tagged(stack)], NextToken }),
      );
      return { items: page.Images ?? [], next: page.NextToken };
    }),
    pages(async (NextToken) => {
      const page = await ec2.send(
        new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [tagged(stack)], NextToken }),
      );
      return { items: page.Snapshots ?? [], next: page.NextToken };
    }),
  ]);
  const found: Leftover[] = [];
  const add = (kind: Leftover['kind'], r: { Tags?: Tag[] }, id?: string, at?: Date | string, more = {}) => {
    const bakeId = r.Tags?.find((t) => t.Key === TAG.bakeId)?.Value;
    if (id && bakeId) found.push({ kind, id, region, bakeId, createdAt: date(at), ...more });
  };
  for (const i of instances) {
    add('instance', i, i.InstanceId, i.LaunchTime, i.InstanceLifecycle === 'spot' ? { spot: true } : {});
  }
  for (const i of images) add('image', i, i.ImageId, i.CreationDate, { snapshotIds: snapshotIdsOf(i) });
  for (const s of snapshots) add('snapshot', s, s.SnapshotId, s.StartTime);
  return found;
}

function date(value: Date | string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d;
}
