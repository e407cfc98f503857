import type { HistoryEvent } from '@aws-sdk/client-sfn';

type LooseRecipe = { name?: unknown; distribution?: { regions?: unknown[] }; builder?: { spot?: unknown } };

/**
 * The recipe a bake ran with. Executions are started with a recipe name only (ResolveRecipe loads
 * the recipe from its catalog and puts it in `$.recipe`), so it is read from ResolveRecipe's output
 * in the history; executions started before that carried it in their input.
 */
export function recipeOfExecution(
  input: string | null | undefined,
  events: readonly HistoryEvent[] = [],
): LooseRecipe | undefined {
  for (const e of events) {
    const d = e.stateExitedEventDetails;
    if (d?.name !== 'ResolveRecipe') continue;
    const recipe = parse(d.output)?.recipe;
    if (recipe !== null && typeof recipe === 'object') return recipe as LooseRecipe;
  }
  const recipe = parse(input)?.recipe;
  return recipe !== null && typeof recipe === 'object' ? (recipe as LooseRecipe) : undefined;
}

/** The recipe name of an execution input, old (`recipe.name`) or new (`recipeName`). */
export function recipeNameOfInput(input: string | null | undefined): string | undefined {
  const i = parse(input);
  const name = i?.recipeName ?? (i?.recipe as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' ? name : undefined;
}

function parse(json: string | null | undefined): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(json ?? '{}') as unknown;
    return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
