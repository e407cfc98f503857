import {
  DeregisterImageCommand,
  DescribeImagesCommand,
  DisableImageDeregistrationProtectionCommand,
  type Image,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import type { Ec2Send } from '../aws/ec2.js';
import { snapshotIdsOf } from '../aws/images.js';
import { CleanupIncompleteError } from '../errors.js';
import type { CleanupReport } from '../state.js';
import { bakeFilter } from '../tags.js';
import { cancelSpotRequests, liveInstances } from './builders.js';
import { imageById, instanceById, isNotFound } from './by-id.js';
import type { KnownResources } from './known.js';
import { emptyCleanupReport, incompleteMessage } from './report.js';
import { add, notOurs, ours, type RegionRun } from './run.js';
import { claimSnapshots, removeSnapshots } from './snapshots.js';

export interface CleanupDeps {
  ec2: (region: string) => Ec2Send;
  now?: () => Date;
}

export interface CleanupInput {
  bakeId: string;
  regions: readonly string[];
  /** Ids the execution's state already holds (lib/cleanup/known.ts); their regions are visited too. */
  known?: Partial<KnownResources>;
  /**
   * A group's request (several architectures): the bake ids of its children. Each child tags what
   * it creates with its own id; a failure of one architecture removes every architecture's.
   */
  members?: readonly string[];
  /**
   * The recipe asked for Spot builders: the bake's Spot requests (found by tag) are cancelled
   * before its instances are terminated, or a persistent request would launch a new builder.
   * Bakes without Spot make no requests, and no call looks for them.
   */
  spot?: boolean;
}

/**
 * Terminated instances stay visible for about an hour, so a builder launched minutes ago that EC2
 * does not know is one it does not show yet (eventual consistency), not one that is gone.
 */
const NOT_VISIBLE_YET_MS = 10 * 60_000;

/**
 * Removes everything a bake created, in every region it could have touched. Found two ways: by
 * the bake-id tag (whatever ids a failed handler did or did not return) and by the ids in the
 * execution's state (a tag lookup right after a create call may not show the resource yet).
 * Nothing is touched that does not carry this bake's tag, which every resource gets at creation.
 *
 * Idempotent, and honest across attempts: Step Functions retries an incomplete cleanup with the
 * same input, and the report of a failed attempt is lost with its error. So each attempt reports
 * what it removed plus the resources the state names that are gone by now (terminated, NotFound,
 * deregistered): the last attempt's report lists everything of those, whoever removed it. If
 * anything could not be removed, it throws CleanupIncompleteError after trying every region, its
 * message carrying the report (lib/cleanup/report.ts), and the state machine retries.
 */
export async function cleanup(input: CleanupInput, deps: CleanupDeps): Promise<CleanupReport> {
  const report = emptyCleanupReport();
  const known: KnownResources = {
    instances: input.known?.instances ?? [],
    images: input.known?.images ?? [],
    snapshots: input.known?.snapshots ?? [],
  };
  const regions = new Set([
    ...input.regions,
    ...[...known.instances, ...known.images, ...known.snapshots].map((r) => r.region),
  ]);
  const now = deps.now?.() ?? new Date();
  const bakeIds = [input.bakeId, ...(input.members ?? [])];
  await Promise.all(
    [...regions].flatMap((region) =>
      bakeIds.map(async (bakeId) => {
        const here = <T extends { region: string }>(items: T[]) =>
          bakeId === input.bakeId ? items.filter((i) => i.region === region) : [];
        const run: RegionRun = {
          region,
          bakeId,
          ec2: deps.ec2(region),
          known: {
            instances: here(known.instances),
            images: here(known.images),
            snapshots: here(known.snapshots),
          },
          now,
          report,
        };
        try {
          if (input.spot) await cancelSpotRequests(run.ec2, bakeId);
          await removeInstances(run);
          const snapshotIds = await removeImages(run);
          await removeSnapshots(run, snapshotIds);
        } catch (error) {
          report.problems.push(`${region}: ${(error as Error).name}: ${(error as Error).message}`);
        }
      }),
    ),
  );
  if (report.problems.length > 0) throw new CleanupIncompleteError(incompleteMessage(report));
  return report;
}

async function removeInstances(run: RegionRun) {
  const { ec2, region, report } = run;
  const live = new Set(await liveInstances(ec2, run.bakeId));
  const gone: string[] = [];
  for (const { instanceId, launchedAt } of run.known.instances) {
    if (live.has(instanceId)) continue;
    const instance = await instanceById(ec2, instanceId);
    if (!instance) {
      const age = run.now.getTime() - Date.parse(launchedAt ?? '');
      if (age < NOT_VISIBLE_YET_MS) {
        report.problems.push(`${region}: builder ${instanceId} is not visible yet (launched ${launchedAt})`);
      }
      continue;
    }
    if (!ours(run, instance.Tags)) notOurs(run, 'instance', instanceId);
    else if (['terminated', 'shutting-down'].includes(instance.State?.Name ?? '')) gone.push(instanceId);
    else live.add(instanceId);
  }
  if (live.size > 0) await ec2.send(new TerminateInstancesCommand({ InstanceIds: [...live] }));
  for (const instanceId of [...live, ...gone]) add(report.terminatedInstances, { region, instanceId });
}

/** Deregisters the bake's images; returns the snapshots behind them that carry its tag. */
async function removeImages(run: RegionRun): Promise<Set<string>> {
  const { ec2, region, report } = run;
  const { Images = [] } = await ec2.send(
    new DescribeImagesCommand({ Owners: ['self'], Filters: [bakeFilter(run.bakeId)] }),
  );
  const images = new Map<string, Image>(Images.flatMap((i) => (i.ImageId ? [[i.ImageId, i] as const] : [])));
  for (const { imageId } of run.known.images) {
    if (images.has(imageId)) continue;
    const image = await imageById(ec2, imageId);
    if (!image || image.State === 'deregistered') add(report.deregisteredImages, { region, imageId });
    else if (!ours(run, image.Tags)) notOurs(run, 'image', imageId);
    else images.set(imageId, image);
  }
  const snapshotIds = new Set<string>();
  for (const [imageId, image] of images) {
    // Before deregistering: then its mappings are gone, and the snapshots are found by tag only.
    for (const snapshotId of await claimSnapshots(run, snapshotIdsOf(image))) snapshotIds.add(snapshotId);
    try {
      // FinalizeImage may have protected it (image.deregistrationProtection) before a later state
      // failed. Only our own images get here, and the pipeline never enables a cooldown, which
      // would keep even a lifted protection for 24 hours (the DeregisterImage then fails, reported).
      if (image.DeregistrationProtection?.startsWith('enabled')) {
        await ec2.send(new DisableImageDeregistrationProtectionCommand({ ImageId: imageId }));
      }
      await ec2.send(new DeregisterImageCommand({ ImageId: imageId }));
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    add(report.deregisteredImages, { region, imageId });
  }
  return snapshotIds;
}
