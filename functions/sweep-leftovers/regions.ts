import { logger } from '../../lib/logger.js';
import type { CatalogEntry } from '../../lib/recipe/catalog.js';

/**
 * Where bakes can have left something: the build region, every region a recipe of the packaged
 * catalog copies to, and the regions an operator adds (recipes removed from the catalog, say).
 * A catalog that does not load still leaves the build region and the extra ones to sweep.
 */
export async function sweepRegions(
  buildRegion: string,
  extra: readonly string[],
  catalog: () => Promise<readonly CatalogEntry[]>,
): Promise<{ regions: string[]; problems: string[] }> {
  try {
    const targets = (await catalog()).flatMap((e) => e.recipe.distribution.regions);
    return { regions: [...new Set([buildRegion, ...targets, ...extra])], problems: [] };
  } catch (error) {
    const problem = `catalog: ${(error as Error).name}: ${(error as Error).message}`;
    logger.error('recipe catalog not loaded: sweeping the build region and the extra regions only', {
      problem,
    });
    return { regions: [...new Set([buildRegion, ...extra])], problems: [problem] };
  }
}
