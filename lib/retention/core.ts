import { DeleteSnapshotCommand, DeregisterImageCommand } from '@aws-sdk/client-ec2';
import type { AutoScalingSend } from '../aws/autoscaling.js';
import type { Ec2Send } from '../aws/ec2.js';
import type { SsmSend } from '../aws/ssm.js';
import type { ImagesRetiredDetail } from '../events.js';
import { type RecipeImage, recipeInventory } from './inventory.js';
import { planRetention, type Reason } from './plan.js';
import { usesOf } from './usage.js';

export interface RetentionRequest {
  recipe: {
    name: string;
    /** retention.keep */
    keep: number;
    /** Where to look: the build region and every region the recipe copies to. */
    regions: readonly string[];
    /** distribution.ssmParameter, `{architecture}` and all. */
    ssmParameter?: string;
  };
  trigger: ImagesRetiredDetail['trigger'];
  /** The bake whose success ran retention. */
  bakeId?: string;
  /** List what would be retired and what is kept; deregister and delete nothing. */
  dryRun: boolean;
  /** The `ami-bake:stack` value: only this stack's images are looked at. */
  stack: string;
}

export interface RetentionDeps {
  ec2: (region: string) => Ec2Send;
  autoScaling: (region: string) => AutoScalingSend;
  ssm: (region: string) => SsmSend;
  now: () => Date;
}

export type RetentionReport = ImagesRetiredDetail & { dryRun: boolean };
type RegionReport = RetentionReport['regions'][string];

/**
 * Retires the recipe's images beyond its newest `keep` bakes in every region: deregisters each and
 * deletes its snapshots. Kept, with their reasons: the newest bakes, unfinished bakes, images with
 * deregistration protection, and images still in use (lib/retention/usage.ts). When a region cannot
 * be listed nothing is retired anywhere (an unseen bake could be one of the newest); when a use
 * cannot be checked, that region's candidates are kept. Safe to run twice.
 */
export async function retireImages(request: RetentionRequest, deps: RetentionDeps): Promise<RetentionReport> {
  const regions = [...new Set(request.recipe.regions)];
  const report: RetentionReport = {
    recipe: { name: request.recipe.name },
    ...(request.bakeId ? { bakeId: request.bakeId } : {}),
    trigger: request.trigger,
    keep: request.recipe.keep,
    dryRun: request.dryRun,
    regions: Object.fromEntries(regions.map((r) => [r, { retired: [], kept: [] } as RegionReport])),
    problems: [],
    finishedAt: '',
  };
  const images: RecipeImage[] = [];
  const live = new Set<string>();
  await Promise.all(
    regions.map(async (region) => {
      try {
        const found = await recipeInventory(deps.ec2(region), region, request.recipe.name, request.stack);
        images.push(...found.images);
        for (const bakeId of found.liveBakes) live.add(bakeId);
      } catch (error) {
        report.problems.push(`${region}: images not listed: ${describe(error)}`);
      }
    }),
  );
  const plan = planRetention(images, request.recipe.keep, live);
  for (const { image, reasons } of plan.kept) keep(report, image, reasons);
  const listed = report.problems.length === 0;
  await Promise.all(
    regions.map(async (region) => {
      const here = plan.candidates.filter((i) => i.region === region);
      if (here.length === 0) return;
      if (!listed) {
        const detail = 'not every region could be listed, so the newest bakes are not known';
        for (const image of here) keep(report, image, [{ kind: 'unverified', detail }]);
        return;
      }
      const protectedOnes = here.filter((i) => i.protection);
      for (const image of protectedOnes)
        keep(report, image, [
          { kind: 'deregistration-protection', detail: `deregistration protection ${image.protection}` },
        ]);
      const open = here.filter((i) => !i.protection);
      let uses: Map<string, Reason[]>;
      try {
        uses = await usesOf(open, request.recipe.ssmParameter, {
          ec2: deps.ec2(region),
          autoScaling: deps.autoScaling(region),
          ssm: deps.ssm(region),
        });
      } catch (error) {
        report.problems.push(`${region}: uses not checked: ${describe(error)}`);
        const detail = `uses could not be checked: ${describe(error)}`;
        for (const image of open) keep(report, image, [{ kind: 'unverified', detail }]);
        return;
      }
      for (const image of open) {
        const reasons = uses.get(image.imageId);
        if (reasons) keep(report, image, reasons);
        else await retire(report, image, request.dryRun, deps.ec2(region));
      }
    }),
  );
  report.finishedAt = deps.now().toISOString();
  return report;
}

function keep(report: RetentionReport, image: RecipeImage, reasons: Reason[]): void {
  regionOf(report, image.region).kept.push({ ...identity(image), reasons });
}

/** Deregisters the image, then deletes its snapshots (EC2 keeps them after deregistration). */
async function retire(
  report: RetentionReport,
  image: RecipeImage,
  dryRun: boolean,
  ec2: Ec2Send,
): Promise<void> {
  const where = `${image.region} ${image.imageId}`;
  if (dryRun) {
    regionOf(report, image.region).retired.push({ ...identity(image), deletedSnapshots: image.snapshotIds });
    return;
  }
  try {
    await ec2.send(new DeregisterImageCommand({ ImageId: image.imageId }));
  } catch (error) {
    // Already gone (another run, by hand): its snapshots may still be there.
    if (!/^InvalidAMIID\.(NotFound|Unavailable)$/.test((error as Error).name)) {
      report.problems.push(`${where}: not deregistered: ${describe(error)}`);
      keep(report, image, [{ kind: 'unverified', detail: `DeregisterImage failed: ${describe(error)}` }]);
      return;
    }
  }
  const deleted: string[] = [];
  for (const snapshotId of image.snapshotIds) {
    try {
      await ec2.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId }));
      deleted.push(snapshotId);
    } catch (error) {
      if ((error as Error).name === 'InvalidSnapshot.NotFound') deleted.push(snapshotId);
      else report.problems.push(`${where}: snapshot ${snapshotId} not deleted: ${describe(error)}`);
    }
  }
  regionOf(report, image.region).retired.push({ ...identity(image), deletedSnapshots: deleted });
}

function identity(image: RecipeImage) {
  return {
    imageId: image.imageId,
    bakeId: image.bakeId,
    architecture: image.architecture,
    ...(image.createdAt ? { createdAt: image.createdAt } : {}),
  };
}

function regionOf(report: RetentionReport, region: string): RegionReport {
  report.regions[region] ??= { retired: [], kept: [] };
  return report.regions[region];
}

function describe(error: unknown): string {
  return `${(error as Error).name}: ${(error as Error).message}`;
}

/** True when the report says more than "the newest bakes are kept": something to announce. */
export function hasNews(report: RetentionReport): boolean {
  return (
    report.problems.length > 0 ||
    Object.values(report.regions).some(
      (r) => r.retired.length > 0 || r.kept.some((k) => k.reasons.some((reason) => reason.kind !== 'newest')),
    )
  );
}
