import {
  CreateTagsCommand,
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import type { Ec2Send } from '../../lib/aws/clients.js';
import { CleanupIncompleteError } from '../../lib/errors.js';
import type { CleanupReport } from '../../lib/state.js';
import { bakeFilter, TAG } from '../../lib/tags.js';
import { liveInstances } from '../terminate-builder/core.js';

export interface CleanupDeps {
  ec2: (region: string) => Ec2Send;
}

/**
 * Removes everything a bake created, in every region it could have touched, found by the bake-id
 * tag (never by ids from state, which a failed handler may not have returned). Idempotent: a
 * second run finds nothing and reports nothing. Throws after trying every region if anything
 * could not be removed, so the state machine retries.
 */
export async function cleanup(
  input: { bakeId: string; regions: readonly string[] },
  deps: CleanupDeps,
): Promise<CleanupReport> {
  const report: CleanupReport = {
    terminatedInstances: [],
    deregisteredImages: [],
    deletedSnapshots: [],
    problems: [],
  };
  await Promise.all(
    [...new Set(input.regions)].map(async (region) => {
      try {
        await cleanRegion(region, input.bakeId, deps.ec2(region), report);
      } catch (error) {
        report.problems.push(`${region}: ${(error as Error).name}: ${(error as Error).message}`);
      }
    }),
  );
  if (report.problems.length > 0) throw new CleanupIncompleteError(report.problems.join('; '));
  return report;
}

async function cleanRegion(region: string, bakeId: string, ec2: Ec2Send, report: CleanupReport) {
  const instanceIds = await liveInstances(ec2, bakeId);
  if (instanceIds.length > 0) {
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: instanceIds }));
    report.terminatedInstances.push(...instanceIds.map((instanceId) => ({ region, instanceId })));
  }
  const { Images = [] } = await ec2.send(
    new DescribeImagesCommand({ Owners: ['self'], Filters: [bakeFilter(bakeId)] }),
  );
  const snapshotIds = new Set<string>();
  for (const image of Images) {
    for (const m of image.BlockDeviceMappings ?? []) if (m.Ebs?.SnapshotId) snapshotIds.add(m.Ebs.SnapshotId);
    if (!image.ImageId) continue;
    await ec2.send(new DeregisterImageCommand({ ImageId: image.ImageId }));
    report.deregisteredImages.push({ region, imageId: image.ImageId });
  }
  // Snapshots of images deregistered above, plus tagged ones whose image is already gone.
  const { Snapshots = [] } = await ec2.send(new DescribeSnapshotsCommand({ Filters: [bakeFilter(bakeId)] }));
  for (const s of Snapshots) if (s.SnapshotId) snapshotIds.add(s.SnapshotId);
  for (const snapshotId of snapshotIds) {
    try {
      // Snapshots of a bake that failed before FinalizeImage carry no tags yet; tag each so the
      // delete permission (scoped to the bake-id tag) applies and a retry can still find it.
      await ec2.send(
        new CreateTagsCommand({ Resources: [snapshotId], Tags: [{ Key: TAG.bakeId, Value: bakeId }] }),
      );
      await ec2.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId }));
      report.deletedSnapshots.push({ region, snapshotId });
    } catch (error) {
      if (!(error as Error).name.startsWith('InvalidSnapshot.NotFound')) throw error;
    }
  }
}
