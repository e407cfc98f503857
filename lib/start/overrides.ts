import { RecipeInvalidError } from '../errors.js';
import { type Problem, parseRecipe } from '../recipe/load.js';
import type { ResolvedRecipe } from '../state.js';
import type { Overrides } from './request.js';

/**
 * Whoever may call the API or put an event on the bus is not whoever reviews recipes. A request
 * may narrow a recipe (a shorter budget, fewer of its regions, a description, extra tags); it may
 * widen it only as far as the recipe's own `overrides` policy says. Each problem names the field.
 */
export function overrideProblems(
  recipe: ResolvedRecipe,
  overrides: Overrides | undefined,
  force = false,
): Problem[] {
  const policy = recipe.overrides;
  const problems: Problem[] = [];
  const outside = (path: string, what: string, allowed: readonly string[]) =>
    problems.push({
      path,
      message: `${what} is not allowed by the recipe ${recipe.name} (allowed: ${allowed.join(', ') || 'none'}; a recipe lists what may be overridden under overrides)`,
    });
  const b = overrides?.builder;
  if (b?.instanceType !== undefined) {
    // A recipe sized by requirements names no type: only the policy's types may be chosen.
    const allowed = [recipe.builder.instanceType, ...(policy?.instanceTypes ?? [])].filter(
      (t): t is string => typeof t === 'string',
    );
    if (!allowed.includes(b.instanceType)) outside('overrides.builder.instanceType', b.instanceType, allowed);
  }
  if (b?.subnetId !== undefined) {
    const allowed = [recipe.builder.subnetId, ...(policy?.subnetIds ?? [])].filter((s) => s !== undefined);
    if (!allowed.includes(b.subnetId)) outside('overrides.builder.subnetId', b.subnetId, allowed);
  }
  const groups = [...(recipe.builder.securityGroupIds ?? []), ...(policy?.securityGroupIds ?? [])];
  b?.securityGroupIds?.forEach((g, i) => {
    if (!groups.includes(g)) outside(`overrides.builder.securityGroupIds.${i}`, g, groups);
  });
  const minutes = overrides?.bootstrap?.timeoutMinutes;
  const maxMinutes = Math.max(recipe.bootstrap.timeoutMinutes, policy?.maxBootstrapMinutes ?? 0);
  if (minutes !== undefined && minutes > maxMinutes)
    problems.push({
      path: 'overrides.bootstrap.timeoutMinutes',
      message: `${minutes} is more than the recipe ${recipe.name} allows (at most ${maxMinutes}; raise overrides.maxBootstrapMinutes in the recipe)`,
    });
  const regions = [...recipe.distribution.regions, ...(policy?.regions ?? [])];
  overrides?.distribution?.regions?.forEach((r, i) => {
    if (!regions.includes(r as never)) outside(`overrides.distribution.regions.${i}`, r, regions);
  });
  if (force && !policy?.force)
    problems.push({
      path: 'force',
      message: `the recipe ${recipe.name} does not allow forced bakes (set overrides.force: true in the recipe to allow them)`,
    });
  return problems;
}

/**
 * Overrides are checked against the recipe's policy, merged into the recipe and the result
 * validated as a recipe; problems name `overrides.…` (or `force`). The start path and
 * ResolveRecipe both call this: the state machine checks again what the start path checked.
 */
export async function applyOverrides(
  recipe: ResolvedRecipe,
  overrides: Overrides | undefined,
  force = false,
): Promise<ResolvedRecipe> {
  const bounds = overrideProblems(recipe, overrides, force);
  if (!overrides) {
    if (bounds.length > 0) throw invalid(bounds);
    return recipe;
  }
  const merged = {
    ...recipe,
    // A type the policy allows replaces the recipe's requirements (a builder has exactly one).
    builder: {
      ...recipe.builder,
      ...(overrides.builder?.instanceType ? { requirements: undefined } : {}),
      ...overrides.builder,
    },
    bootstrap: { ...recipe.bootstrap, ...overrides.bootstrap },
    image: { ...recipe.image, ...overrides.image, tags: { ...recipe.image.tags, ...overrides.image?.tags } },
    distribution: { ...recipe.distribution, ...overrides.distribution },
  };
  const result = await parseRecipe(merged, process.cwd());
  const problems = result.ok ? [] : result.problems.map((p) => ({ ...p, path: `overrides.${p.path}` }));
  // A value the schema rejects (e.g. an unknown region) is reported once, by the schema.
  const all = [...problems, ...bounds.filter((b) => !problems.some((p) => p.path === b.path))];
  if (all.length > 0) throw invalid(all);
  if (!result.ok) throw invalid(problems);
  return result.recipe;
}

function invalid(problems: Problem[]): RecipeInvalidError {
  return new RecipeInvalidError(problems.map((p) => `${p.path}: ${p.message}`).join('; '), problems);
}
