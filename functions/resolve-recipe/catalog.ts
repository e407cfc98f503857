import { RecipeNotFoundError } from '../../lib/errors.js';
import { forArchitecture } from '../../lib/recipe/architectures.js';
import { type CatalogEntry, findRecipe } from '../../lib/recipe/catalog.js';
import { applyOverrides } from '../../lib/start/overrides.js';
import type { BakeContext, BakeInput, ExecutionInput, ResolvedRecipe } from '../../lib/state.js';

export interface CatalogDeps {
  /** The recipes packaged with the function (locally: the recipe file being baked). */
  catalog: readonly CatalogEntry[];
  /** The checks only AWS can answer (core.ts `resolveRecipe`). */
  resolve: (input: BakeInput) => Promise<BakeContext>;
}

export type ResolvedState = ExecutionInput & { recipe: ResolvedRecipe; context: BakeContext };

/**
 * The state machine trusts nothing in its input but a recipe name and overrides: the recipe
 * comes from the catalog, the overrides must be within the recipe's own bounds (checked again
 * here, since anyone allowed StartExecution bypasses the start path). The whole state is returned
 * (ResultPath `$`): later states read `$.recipe` and `$.context`.
 */
export async function resolveFromCatalog(input: ExecutionInput, deps: CatalogDeps): Promise<ResolvedState> {
  const entry = findRecipe(deps.catalog, input.recipeName);
  if (!entry) throw new RecipeNotFoundError(`recipe ${input.recipeName} is not in this stack's catalog`);
  const recipe = await applyOverrides(entry.recipe, input.overrides);
  const { architecture, group } = input;
  const context = await deps.resolve({ bakeId: input.bakeId, recipe, architecture, group });
  // A group's request keeps the whole recipe (its children narrow it); one architecture's bake sees
  // its own base selector and builder type only.
  if (context.architectures) {
    // BakeArchitectures hands both to every child: a JSONPath that finds nothing fails the state.
    return {
      ...input,
      overrides: input.overrides ?? {},
      request: input.request ?? { source: 'unknown' },
      recipe,
      context,
    };
  }
  return { ...input, recipe: forArchitecture(recipe, context.architecture), context };
}
