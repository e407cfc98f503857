import { DeleteSnapshotCommand, DescribeSnapshotsCommand } from '@aws-sdk/client-ec2';
import { logger } from '../logger.js';
import { bakeFilter, fromTags, TAG } from '../tags.js';
import { isNotFound, snapshotById } from './by-id.js';
import { add, notOurs, ours, type RegionRun } from './run.js';

/**
 * The snapshots behind one of our images that are ours to delete: those carrying this bake's tag,
 * which CreateImage and CopyImage set at creation. One without any bake tag is left alone: the
 * pipeline may set its tags only at creation (IAM refuses them later, docs/security.md), and its
 * delete permission requires them, so it could neither claim nor delete it.
 */
export async function claimSnapshots(run: RegionRun, snapshotIds: string[]): Promise<string[]> {
  const claimed: string[] = [];
  for (const snapshotId of snapshotIds) {
    const snapshot = await snapshotById(run.ec2, snapshotId);
    if (!snapshot) continue;
    const owner = fromTags(snapshot.Tags)[TAG.bakeId];
    if (owner === undefined) {
      logger.warn(
        `snapshot ${snapshotId} in ${run.region} is behind this bake's image but was not tagged at creation; left alone`,
      );
      continue;
    }
    if (owner !== run.bakeId) {
      notOurs(run, 'snapshot', snapshotId);
      continue;
    }
    claimed.push(snapshotId);
  }
  return claimed;
}

/** Deletes the snapshots of deregistered images, tagged ones whose image is gone, and those the state names. */
export async function removeSnapshots(run: RegionRun, snapshotIds: Set<string>) {
  const { ec2, region, report } = run;
  const { Snapshots = [] } = await ec2.send(
    new DescribeSnapshotsCommand({ Filters: [bakeFilter(run.bakeId)] }),
  );
  for (const s of Snapshots) if (s.SnapshotId) snapshotIds.add(s.SnapshotId);
  for (const { snapshotId } of run.known.snapshots) {
    if (snapshotIds.has(snapshotId)) continue;
    const snapshot = await snapshotById(ec2, snapshotId);
    if (!snapshot) add(report.deletedSnapshots, { region, snapshotId });
    else if (!ours(run, snapshot.Tags)) notOurs(run, 'snapshot', snapshotId);
    else snapshotIds.add(snapshotId);
  }
  for (const snapshotId of snapshotIds) {
    try {
      await ec2.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId }));
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    add(report.deletedSnapshots, { region, snapshotId });
  }
}
