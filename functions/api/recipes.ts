import { type CatalogEntry, findRecipe } from '../../lib/recipe/catalog.js';
import type { RouteRequest } from './bakes.js';
import type { ApiDeps } from './deps.js';
import { type ApiResponse, badRequest, json, notFound } from './http.js';
import { check } from './problems.js';
import { recipeNameSchema } from './schemas.js';

/** GET /recipes: what can be baked, without the user data. */
export async function listRecipes(_request: RouteRequest, deps: ApiDeps): Promise<ApiResponse> {
  return json(200, { buildRegion: deps.buildRegion, recipes: deps.catalog.map(summary) });
}

/** GET /recipes/{name}: one recipe, user data replaced by its platform and size. */
export async function getRecipe({ params }: RouteRequest, deps: ApiDeps): Promise<ApiResponse> {
  const name = check(recipeNameSchema, params.name);
  if (!name.ok) throw badRequest(name.problems.map((p) => ({ ...p, path: 'path.name' })));
  const entry = findRecipe(deps.catalog, name.value);
  if (!entry) throw notFound(`no recipe ${name.value} in this stack's catalog`);
  // User data may embed internal hostnames or tokens: callers see its size, not its text.
  const { script, ...bootstrap } = entry.recipe.bootstrap;
  return json(200, {
    ...summary(entry),
    buildRegion: deps.buildRegion,
    recipe: { ...entry.recipe, bootstrap: { ...bootstrap, sizeBytes: Buffer.byteLength(script, 'utf8') } },
  });
}

function summary({ file, recipe }: CatalogEntry) {
  return {
    name: recipe.name,
    description: recipe.description,
    file,
    regions: recipe.distribution.regions,
    schedule: recipe.schedule,
    triggers: recipe.triggers ?? [],
    links: { self: `/recipes/${recipe.name}` },
  };
}
