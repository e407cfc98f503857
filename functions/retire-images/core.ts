import * as z from 'zod';
import type { ImagesRetiredDetail } from '../../lib/events.js';
import { logger } from '../../lib/logger.js';
import type { CatalogEntry } from '../../lib/recipe/catalog.js';
import { RECIPE_NAME } from '../../lib/recipe/name.js';
import type { RetentionDeps, RetentionReport } from '../../lib/retention/core.js';
import { retireRecipe } from '../../lib/retention/run.js';

/** Bake Succeeded, as the project bus's rule delivers it: retention for that recipe. */
const bakeSucceeded = z.object({
  source: z.literal('ami-bake'),
  'detail-type': z.literal('Bake Succeeded'),
  detail: z.object({
    bakeId: z.string(),
    recipe: z.object({ name: z.string() }),
    buildRegion: z.string().optional(),
    images: z.record(z.string(), z.unknown()).optional(),
  }),
});
/** The daily schedule's own event: every recipe of the catalog that has retention. */
const scheduled = z.object({ source: z.literal('aws.events'), 'detail-type': z.literal('Scheduled Event') });
/**
 * By hand (`aws lambda invoke`): `{ "recipe": "example-web", "dryRun": true }`; no recipe means
 * every recipe. Strict: a misspelt dryRun is refused rather than read as false (a typo must not delete).
 */
const request = z.strictObject({
  recipe: z.string().regex(RECIPE_NAME, 'must be a recipe name').optional(),
  dryRun: z.boolean().optional(),
});

export const retireEventSchema = z.union([bakeSucceeded, scheduled, request]).transform((e): RetireOrder => {
  if ('detail' in e)
    return {
      trigger: 'bake',
      bakeId: e.detail.bakeId,
      recipe: e.detail.recipe.name,
      dryRun: false,
      regions: [
        ...(e.detail.buildRegion ? [e.detail.buildRegion] : []),
        ...Object.keys(e.detail.images ?? {}),
      ],
    };
  if ('source' in e) return { trigger: 'schedule', dryRun: false, regions: [] };
  return { trigger: 'request', recipe: e.recipe, dryRun: e.dryRun ?? false, regions: [] };
});

export interface RetireOrder {
  trigger: ImagesRetiredDetail['trigger'];
  bakeId?: string;
  /** One recipe, or every recipe of the catalog with retention. */
  recipe?: string;
  dryRun: boolean;
  /** Regions to look in besides the build region and the recipe's: where the bake's images are. */
  regions: string[];
}

export interface RetireDeps {
  catalog: () => Promise<readonly CatalogEntry[]>;
  buildRegion: string;
  stack: string;
  retention: RetentionDeps;
  /** Publishes Images Retired on the project bus. */
  publish: (detail: ImagesRetiredDetail) => Promise<void>;
}

export interface RetireResult {
  reports: RetentionReport[];
  /** Why a named recipe was not looked at (not in the catalog, or without retention). */
  skipped?: string;
}

/**
 * Runs retention for the recipe of a Bake Succeeded, for every recipe on the schedule, or for the
 * recipe a request names, one recipe at a time, with the catalog's current settings. Publishes
 * Images Retired for each run that retired, kept for a reason other than "newest", or had a
 * problem; a dry run publishes nothing.
 */
export async function retireForOrder(order: RetireOrder, deps: RetireDeps): Promise<RetireResult> {
  const catalog = await deps.catalog();
  const named = order.recipe === undefined ? undefined : catalog.find((e) => e.recipe.name === order.recipe);
  if (order.recipe !== undefined && !named?.recipe.retention) {
    const skipped = named
      ? `recipe ${order.recipe} has no retention`
      : `recipe ${order.recipe} is not in the catalog`;
    logger.info(`retention skipped: ${skipped}`);
    return { reports: [], skipped };
  }
  const entries = named ? [named] : catalog.filter((e) => e.recipe.retention);
  const reports: RetentionReport[] = [];
  for (const { recipe } of entries) {
    if (!recipe.retention) continue;
    const report = await retireRecipe(
      { ...recipe, retention: recipe.retention },
      {
        trigger: order.trigger,
        ...(order.bakeId ? { bakeId: order.bakeId } : {}),
        dryRun: order.dryRun,
        stack: deps.stack,
        regions: [deps.buildRegion, ...order.regions],
      },
      { ...deps.retention, publish: deps.publish },
    );
    logger.info(order.dryRun ? 'retention (dry run)' : 'retention', { report });
    if (report.problems.length > 0) logger.error('retention incomplete', { problems: report.problems });
    reports.push(report);
  }
  return { reports };
}
