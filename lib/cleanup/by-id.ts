import {
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  type Image,
  type Instance,
  type Snapshot,
} from '@aws-sdk/client-ec2';
import type { Ec2Send } from '../aws/ec2.js';

/**
 * Describes of one resource by id. By id, not by filter: EC2 shows a new resource to a describe by
 * id sooner than to a filtered one. One id per call, because one unknown id fails a whole call.
 * `undefined` when EC2 does not know the id (`InvalidInstanceID.NotFound` and the like).
 */
export async function instanceById(ec2: Ec2Send, instanceId: string): Promise<Instance | undefined> {
  return unlessNotFound(async () => {
    const { Reservations = [] } = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    return Reservations.flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === instanceId);
  });
}

export async function imageById(ec2: Ec2Send, imageId: string): Promise<Image | undefined> {
  return unlessNotFound(async () => {
    const { Images = [] } = await ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
    return Images.find((i) => i.ImageId === imageId);
  });
}

export async function snapshotById(ec2: Ec2Send, snapshotId: string): Promise<Snapshot | undefined> {
  return unlessNotFound(async () => {
    const { Snapshots = [] } = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }));
    return Snapshots.find((s) => s.SnapshotId === snapshotId);
  });
}

export function isNotFound(error: unknown): boolean {
  return ((error as Error).name ?? '').endsWith('.NotFound');
}

async function unlessNotFound<T>(describe: () => Promise<T>): Promise<T | undefined> {
  try {
    return await describe();
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}
