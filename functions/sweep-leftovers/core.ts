import { TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import * as z from 'zod';
import type { Ec2Send } from '../../lib/aws/ec2.js';
import { cancelSpotRequests } from '../../lib/cleanup/builders.js';
import { cleanup } from '../../lib/cleanup/core.js';
import { emptyCleanupReport } from '../../lib/cleanup/report.js';
import { logger } from '../../lib/logger.js';
import { emit } from '../../lib/metrics.js';
import type { CleanupReport } from '../../lib/state.js';
import { findLeftovers, type Leftover } from './inventory.js';
import { type UnknownBakes, verdict } from './verdict.js';

/**
 * The sweeper's event: `{ "dryRun": true }` by hand, or the schedule's event (no dryRun). A
 * dryRun that is not a boolean is refused rather than read as false: a typo must not delete.
 */
export const sweepEventSchema = z
  .object({ dryRun: z.boolean().optional() })
  .nullish()
  .transform((e) => ({ dryRun: e?.dryRun ?? false }));

export interface SweepOptions {
  regions: readonly string[];
  /** Leftovers of bakes without an execution are touched only when all are at least this old. */
  graceHours: number;
  /** What to remove of such old bakes: their builders only, or also their images and snapshots. */
  unknownBakes: UnknownBakes;
  /** Report what would be removed; change nothing. */
  dryRun: boolean;
}

export interface SweepDeps {
  ec2: (region: string) => Ec2Send;
  /**
   * The bake's execution (named after the bake id), or undefined when there is none. `error` is
   * the Error a FAILED execution ended with: BakeSucceededNotAnnounced keeps the images.
   */
  describeExecution: (bakeId: string) => Promise<{ status: string; error?: string } | undefined>;
  now: () => Date;
}

/** What was removed of one bake (or, in a dry run, what would be), in every region swept. */
export interface SweptBake extends CleanupReport {
  bakeId: string;
  reason: string;
}

export interface SweepReport {
  dryRun: boolean;
  regions: string[];
  inspected: { instances: number; images: number; snapshots: number };
  removed: SweptBake[];
  kept: { bakeId: string; reason: string }[];
  /** Everything that went wrong: regions not inspected, statuses not known, removals that failed. */
  problems: string[];
}

/**
 * Removes what bakes leaked: builders of stopped executions, images of a cancel that raced a
 * running Lambda, whatever a Cleanup gave up on. Finds resources by the bake-id tag and asks
 * Step Functions how each bake ended; a region or a bake that fails does not stop the others.
 */
export async function sweepLeftovers(options: SweepOptions, deps: SweepDeps): Promise<SweepReport> {
  const report: SweepReport = {
    dryRun: options.dryRun,
    regions: [...new Set(options.regions)],
    inspected: { instances: 0, images: 0, snapshots: 0 },
    removed: [],
    kept: [],
    problems: [],
  };
  const found: Leftover[] = [];
  await Promise.all(
    report.regions.map(async (region) => {
      try {
        found.push(...(await findLeftovers(deps.ec2(region), region)));
      } catch (error) {
        report.problems.push(`${region}: ${describe(error)}`);
      }
    }),
  );
  for (const l of found) report.inspected[`${l.kind}s`] += 1;
  const byBake = groupBy(found, (l) => l.bakeId);
  // One bake at a time: DescribeExecution is rate-limited, and the schedule is not in a hurry.
  for (const [bakeId, leftovers] of [...byBake].sort(([a], [b]) => a.localeCompare(b))) {
    await sweepBake(bakeId, leftovers, options, deps, report);
  }
  const { removed, kept, problems, ...summary } = report;
  logger.info(options.dryRun ? 'swept leftovers (dry run)' : 'swept leftovers', {
    ...summary,
    removed,
    kept,
  });
  if (problems.length > 0) logger.error('sweep incomplete', { problems });
  // Resources, not bakes: what the LeftoversSwept alarm and the dashboard count. A dry run removes none.
  if (!options.dryRun) {
    const count = removed.reduce(
      (n, b) => n + b.terminatedInstances.length + b.deregisteredImages.length + b.deletedSnapshots.length,
      0,
    );
    emit('LeftoversRemoved', count);
  }
  return report;
}

async function sweepBake(
  bakeId: string,
  leftovers: Leftover[],
  options: SweepOptions,
  deps: SweepDeps,
  report: SweepReport,
): Promise<void> {
  let execution: { status: string; error?: string } | undefined;
  try {
    execution = await deps.describeExecution(bakeId);
  } catch (error) {
    report.kept.push({ bakeId, reason: `execution status unknown: ${describe(error)}` });
    report.problems.push(`${bakeId}: ${describe(error)}`);
    return;
  }
  const v = verdict(execution, leftovers, { ...options, now: deps.now() });
  if (v.action === 'leave') {
    report.kept.push({ bakeId, reason: v.reason });
    return;
  }
  const swept: SweptBake = { bakeId, reason: v.reason, ...emptyCleanupReport() };
  const byRegion = groupBy(leftovers, (l) => l.region);
  await Promise.all(
    [...byRegion].map(async ([region, here]) => {
      try {
        const done =
          v.action === 'terminate-builders'
            ? await terminateBuilders(bakeId, region, here, options.dryRun, deps.ec2(region))
            : options.dryRun
              ? planned(region, here)
              : await cleanup(
                  { bakeId, regions: [region], ...(here.some((l) => l.spot) ? { spot: true } : {}) },
                  { ec2: deps.ec2 },
                );
        swept.terminatedInstances.push(...done.terminatedInstances);
        swept.deregisteredImages.push(...done.deregisteredImages);
        swept.deletedSnapshots.push(...done.deletedSnapshots);
      } catch (error) {
        swept.problems.push(`${region}: ${describe(error)}`);
      }
    }),
  );
  if (v.action === 'terminate-builders' && leftovers.some((l) => l.kind !== 'instance')) {
    report.kept.push({ bakeId, reason: v.keep });
  }
  report.removed.push(swept);
  report.problems.push(...swept.problems.map((p) => `${bakeId} ${p}`));
}

async function terminateBuilders(
  bakeId: string,
  region: string,
  here: Leftover[],
  dryRun: boolean,
  ec2: Ec2Send,
) {
  const instanceIds = here.filter((l) => l.kind === 'instance').map((l) => l.id);
  // A Spot builder's persistent request would launch a new one: cancelled first, found by tag.
  if (here.some((l) => l.spot) && !dryRun) await cancelSpotRequests(ec2, bakeId);
  if (instanceIds.length > 0 && !dryRun) {
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: instanceIds }));
  }
  return {
    ...planned(region, []),
    terminatedInstances: instanceIds.map((instanceId) => ({ region, instanceId })),
  };
}

/** What cleanup would remove in a region: the leftovers, and the snapshots behind their images. */
function planned(region: string, here: Leftover[]): CleanupReport {
  const of = (kind: Leftover['kind']) => here.filter((l) => l.kind === kind);
  const snapshotIds = new Set([
    ...of('image').flatMap((l) => l.snapshotIds ?? []),
    ...of('snapshot').map((l) => l.id),
  ]);
  return {
    terminatedInstances: of('instance').map((l) => ({ region, instanceId: l.id })),
    deregisteredImages: of('image').map((l) => ({ region, imageId: l.id })),
    deletedSnapshots: [...snapshotIds].map((snapshotId) => ({ region, snapshotId })),
    problems: [],
  };
}

/** Map.groupBy arrived in Node 21; the tests and the local runner also run on Node 20. */
function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

function describe(error: unknown): string {
  return `${(error as Error).name}: ${(error as Error).message}`;
}
