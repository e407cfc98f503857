import { type CatalogEntry, findRecipe } from '../../lib/recipe/catalog.js';
import type { RouteRequest } from './bakes.js';
import { readJsonBody } from './body.js';
import type { ApiDeps } from './deps.js';
import { type ApiResponse, badRequest, HttpError, json, notFound } from './http.js';
import { check } from './problems.js';
import { recipeNameSchema, retireBodySchema } from './schemas.js';

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

/**
 * POST /recipes/{name}/retire: the recipe's retention now, as after each bake: images beyond its
 * newest `retention.keep` bakes retired in every region, images in use kept, with reasons.
 * `{"dryRun": true}` lists what would be retired and changes nothing.
 */
export async function postRetire({ event, params }: RouteRequest, deps: ApiDeps): Promise<ApiResponse> {
  const name = check(recipeNameSchema, params.name);
  const body = check(retireBodySchema, readJsonBody(event, { required: false }) ?? {});
  if (!name.ok || !body.ok) {
    throw badRequest([
      ...(name.ok ? [] : name.problems.map((p) => ({ ...p, path: 'path.name' }))),
      ...(body.ok ? [] : body.problems),
    ]);
  }
  const entry = findRecipe(deps.catalog, name.value);
  if (!entry) throw notFound(`no recipe ${name.value} in this stack's catalog`);
  const retention = entry.recipe.retention;
  if (!retention)
    throw new HttpError(409, {
      error: 'RetentionNotConfigured',
      message: `recipe ${name.value} has no retention: without retention.keep nothing is retired`,
    });
  const report = await deps.retire({ ...entry.recipe, retention }, body.value.dryRun ?? false);
  return json(200, { ...report, links: { recipe: `/recipes/${name.value}` } });
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
