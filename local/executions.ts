import { RecipeNotFoundError } from '../lib/errors.js';
import { type CatalogEntry, findRecipe } from '../lib/recipe/catalog.js';
import type { ExecutionRef, Executions } from '../lib/start/executions.js';
import type { ExecutionInput } from '../lib/state.js';
import { type LocalBakeOptions, type LocalBakeResult, runLocalBake } from './runner.js';

/**
 * Step Functions' execution registry, played locally: an execution is a local bake, named by
 * its bake id, and a second start with the same name returns the first (as StartExecution does).
 */
export class LocalExecutions implements Executions {
  private readonly runs = new Map<string, { ref: ExecutionRef; result: Promise<LocalBakeResult> }>();

  /**
   * `catalog`: the recipes executions are started by name from (the stack's packaged recipes);
   * set by the start path that owns the catalog, or given here.
   */
  constructor(
    private readonly options: Omit<LocalBakeOptions, 'recipe' | 'bakeId' | 'overrides'> = {},
    public catalog: readonly CatalogEntry[] = [],
  ) {}

  async start(name: string, input: unknown): Promise<ExecutionRef> {
    const existing = this.runs.get(name);
    if (existing) return existing.ref;
    // As deployed: the input names the recipe; the local bake resolves it like ResolveRecipe does.
    const { recipeName, overrides } = input as ExecutionInput;
    const recipe = findRecipe(this.catalog, recipeName)?.recipe;
    if (!recipe) throw new RecipeNotFoundError(`recipe ${recipeName} is not in the local catalog`);
    const ref: ExecutionRef = {
      name,
      executionArn: `local:execution:${name}`,
      status: 'RUNNING',
      startDate: new Date(),
      input,
    };
    const result = runLocalBake({
      ...this.options,
      recipe,
      ...(overrides ? { overrides } : {}),
      bakeId: name,
    }).then((r) => {
      ref.status = r.status === 'succeeded' ? 'SUCCEEDED' : 'FAILED'; // unannounced ends FAILED in AWS too
      return r;
    });
    this.runs.set(name, { ref, result });
    return ref;
  }

  async running(prefix: string): Promise<ExecutionRef[]> {
    return [...this.runs.values()]
      .map((r) => r.ref)
      .filter((r) => r.status === 'RUNNING' && r.name.startsWith(prefix));
  }

  async describe(name: string): Promise<ExecutionRef | undefined> {
    return this.runs.get(name)?.ref;
  }

  /** The finished local bake. */
  result(name: string): Promise<LocalBakeResult> {
    const run = this.runs.get(name);
    if (!run) return Promise.reject(new Error(`no local execution ${name}`));
    return run.result;
  }
}
