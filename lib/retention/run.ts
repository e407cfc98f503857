import type { ImagesRetiredDetail } from '../events.js';
import type { ResolvedRecipe } from '../state.js';
import { hasNews, type RetentionDeps, type RetentionReport, retireImages } from './core.js';

export interface RecipeRetentionOptions {
  trigger: ImagesRetiredDetail['trigger'];
  bakeId?: string;
  dryRun: boolean;
  /** The `ami-bake:stack` value of the images to look at. */
  stack: string;
  /** The build region, and any other region to look in besides the recipe's. */
  regions: readonly string[];
}

export interface RecipeRetentionDeps extends RetentionDeps {
  /** Publishes Images Retired on the project bus; undefined when no bus is known. */
  publish?: (detail: ImagesRetiredDetail) => Promise<void>;
}

/**
 * One recipe's retention, the way every caller runs it (the retireImages function, the API, the
 * CLI): with the recipe's `retention.keep`, regions and parameter, then Images Retired when the run
 * retired something, kept an old image for a reason or had a problem. A dry run publishes nothing.
 * A failure to publish is a problem of the report, not an error: the images are gone either way.
 */
export async function retireRecipe(
  recipe: ResolvedRecipe & { retention: { keep: number } },
  options: RecipeRetentionOptions,
  deps: RecipeRetentionDeps,
): Promise<RetentionReport> {
  const report = await retireImages(
    {
      recipe: {
        name: recipe.name,
        keep: recipe.retention.keep,
        regions: [...options.regions, ...recipe.distribution.regions],
        ssmParameter: recipe.distribution.ssmParameter,
      },
      trigger: options.trigger,
      ...(options.bakeId ? { bakeId: options.bakeId } : {}),
      dryRun: options.dryRun,
      stack: options.stack,
    },
    deps,
  );
  if (options.dryRun || !hasNews(report)) return report;
  const { dryRun: _, ...detail } = report;
  if (!deps.publish) {
    report.problems.push('Images Retired not published: no event bus known');
    return report;
  }
  try {
    await deps.publish(detail);
  } catch (error) {
    report.problems.push(
      `Images Retired not published: ${(error as Error).name}: ${(error as Error).message}`,
    );
  }
  return report;
}
