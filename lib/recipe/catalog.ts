/**
 * The recipe catalog: every `recipes/*.yml`, validated. Packaging turns its schedules and triggers
 * into CloudFormation (scripts/recipe-resources.ts); the startBake and api functions and the CLI
 * read the same files at run time (they are packaged into those functions' zips).
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResolvedRecipe } from '../state.js';
import { formatProblems, loadRecipeFile, type Problem } from './load.js';

export interface CatalogEntry {
  /** The recipe file, as found under the catalog directory (e.g. `recipes/example.yml`). */
  file: string;
  recipe: ResolvedRecipe;
}

export class CatalogError extends Error {
  override readonly name = 'CatalogError';
  constructor(readonly problems: ReadonlyMap<string, readonly Problem[]>) {
    const files = [...problems.entries()].map(([file, p]) => formatProblems(file, p));
    super(`${problems.size} recipe${problems.size === 1 ? '' : 's'} cannot be loaded:\n${files.join('\n')}`);
  }
}

/** Loads every `*.yml` and `*.yaml` directly in `dir`, in file name order; throws CatalogError. */
export async function loadCatalog(dir = 'recipes'): Promise<CatalogEntry[]> {
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => e.name)
    .sort();
  const entries: CatalogEntry[] = [];
  const problems = new Map<string, Problem[]>();
  for (const name of names) {
    const file = join(dir, name);
    const result = await loadRecipeFile(file);
    if (result.ok) entries.push({ file, recipe: result.recipe });
    else problems.set(file, result.problems);
  }
  // The name is the recipe's identity in requests, events, tags and logical ids.
  const byName = new Map<string, string>();
  for (const { file, recipe } of entries) {
    const first = byName.get(recipe.name);
    if (first === undefined) byName.set(recipe.name, file);
    else
      problems.set(file, [
        ...(problems.get(file) ?? []),
        { path: 'name', message: `recipe ${recipe.name} is already defined in ${first}` },
      ]);
  }
  if (problems.size > 0) throw new CatalogError(problems);
  return entries;
}

/** Finds a recipe by name in a loaded catalog. */
export function findRecipe(catalog: readonly CatalogEntry[], name: string): CatalogEntry | undefined {
  return catalog.find((e) => e.recipe.name === name);
}
