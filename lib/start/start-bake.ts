import { createHash, randomBytes } from 'node:crypto';
import {
  IdempotencyConflictError,
  RecipeInvalidError,
  RecipeNotFoundError,
  TooManyBakesError,
} from '../errors.js';
import type { BakeSkippedDetail } from '../events.js';
import { problemsOf, problemsText } from '../problems.js';
import { type CatalogEntry, findRecipe } from '../recipe/catalog.js';
import { contentKey as contentKeyOf, recipeHash } from '../recipe/hash.js';
import type { BaseImage, ResolvedRecipe } from '../state.js';
import type { ExecutionRef, Executions } from './executions.js';
import type { RegionalImages } from './existing-images.js';
import { applyOverrides } from './overrides.js';
import { type ParsedStartRequest, type StartRequest, startRequestSchema } from './request.js';

export { applyOverrides } from './overrides.js';

/** Running bakes allowed at once: a flood of requests cannot launch a fleet of builders. */
export interface BakeLimits {
  perRecipe: number;
  perStack: number;
}
export const DEFAULT_LIMITS: BakeLimits = { perRecipe: 5, perStack: 20 };

export interface StartDeps {
  catalog: readonly CatalogEntry[];
  buildRegion: string;
  resolveBase: (recipe: ResolvedRecipe) => Promise<BaseImage>;
  imagesWithContentKey: (
    contentKey: string,
    regions: readonly string[],
  ) => Promise<RegionalImages | undefined>;
  executions: Executions;
  publishSkipped: (detail: BakeSkippedDetail) => Promise<void>;
  now: () => Date;
  /** Default: DEFAULT_LIMITS; deployed, the stack's MAX_RUNNING_BAKES(_PER_RECIPE) parameters. */
  limits?: BakeLimits;
}

export type StartResult =
  | {
      status: 'started' | 'existing';
      bakeId: string;
      executionArn: string;
      recipe: string;
      contentKey: string;
    }
  | { status: 'skipped'; recipe: string; contentKey: string; images: RegionalImages };

/**
 * The one way a bake starts, whoever asks (schedule, trigger, Bake Requested, API, CLI):
 * 1. find the recipe and apply the request's overrides (validated like a recipe);
 * 2. resolve the base image and compute the content key;
 * 3. unless forced, skip when images with that key exist in every target region;
 * 4. return the running bake instead of starting a twin (same idempotency key; same recipe and
 *    content; for schedules, any bake of the recipe);
 * 5. start the execution, named so that Step Functions itself refuses duplicates.
 */
export async function startBake(raw: StartRequest, deps: StartDeps): Promise<StartResult> {
  const request = parseRequest(raw);
  const entry = findRecipe(deps.catalog, request.recipe);
  if (!entry) {
    throw new RecipeNotFoundError(`recipe ${request.recipe} is not in this stack's catalog`);
  }
  // The recipe's own policy bounds the overrides and force; a trigger's force is the recipe's own.
  const recipe = await applyOverrides(entry.recipe, request.overrides, request.force);
  const base = await deps.resolveBase(recipe);
  const contentKey = contentKeyOf(recipe, base.imageId);
  const regions = [deps.buildRegion, ...recipe.distribution.regions];

  const ref = (r: ExecutionRef, status: 'started' | 'existing') => ({
    status,
    bakeId: r.name,
    executionArn: r.executionArn,
    recipe: recipe.name,
    contentKey,
  });
  // Keys are scoped to the recipe: the same key for two recipes names two bakes.
  const name = request.idempotencyKey
    ? `${recipe.name}_k${sha(request.idempotencyKey).slice(0, 32)}`
    : `${recipe.name}_${contentKey.slice(0, 12)}_${stamp(deps.now())}${randomBytes(2).toString('hex')}`;

  if (request.idempotencyKey) {
    // This key started a bake before (running or not): the same request gets that bake back,
    // before anything else is decided, so a retry always sees what the first call saw.
    const previous = await deps.executions.describe(name);
    if (previous) {
      const before = previous.input as { recipeName?: unknown; overrides?: unknown } | undefined;
      if (
        before?.recipeName !== recipe.name ||
        recipeHash(before?.overrides ?? {}) !== recipeHash(request.overrides ?? {})
      ) {
        throw new IdempotencyConflictError(
          `idempotency key was already used for bake ${name} with a different recipe or overrides`,
        );
      }
      return ref(previous, 'existing');
    }
  }

  const triggerForces =
    request.source === 'trigger' && recipe.triggers?.some((t) => t.name === request.trigger && t.force);
  if (!request.force && !triggerForces) {
    const images = await deps.imagesWithContentKey(contentKey, regions);
    if (images) {
      await deps.publishSkipped({
        recipe: { name: recipe.name, hash: recipeHash(recipe) },
        contentKey,
        base: { imageId: base.imageId },
        images,
        source: request.source,
        reason: request.reason,
        skippedAt: deps.now().toISOString(),
      });
      return { status: 'skipped', recipe: recipe.name, contentKey, images };
    }
  }

  if (!request.idempotencyKey) {
    // Schedules never overlap a running bake of the recipe; others only one with the same content.
    const prefix =
      request.source === 'schedule' ? `${recipe.name}_` : `${recipe.name}_${contentKey.slice(0, 12)}_`;
    const running = await deps.executions.running(prefix);
    if (running[0]) return ref(running[0], 'existing');
  }
  await checkLimits(recipe.name, deps);
  // Only the name and the checked overrides: ResolveRecipe loads the recipe from its own catalog,
  // so whoever may start an execution cannot hand the state machine a recipe of their own.
  const input = {
    bakeId: name,
    recipeName: recipe.name,
    ...(request.overrides ? { overrides: request.overrides } : {}),
    request: { source: request.source, ...(request.reason ? { reason: request.reason } : {}) },
  };
  return ref(await deps.executions.start(name, input), 'started');
}

function parseRequest(raw: StartRequest): ParsedStartRequest {
  const parsed = startRequestSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = problemsOf(parsed.error.issues);
    throw new RecipeInvalidError(problemsText(problems), problems);
  }
  return parsed.data;
}

async function checkLimits(recipeName: string, deps: StartDeps): Promise<void> {
  const limits = deps.limits ?? DEFAULT_LIMITS;
  const running = await deps.executions.running('');
  const ofRecipe = running.filter((e) => e.name.startsWith(`${recipeName}_`)).length;
  if (ofRecipe >= limits.perRecipe)
    throw new TooManyBakesError(
      `recipe ${recipeName} already has ${ofRecipe} running bakes (at most ${limits.perRecipe}); try again when one has ended`,
    );
  if (running.length >= limits.perStack)
    throw new TooManyBakesError(
      `this stack already runs ${running.length} bakes (at most ${limits.perStack}); try again when one has ended`,
    );
}

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** 20261126T052433 → 20261126052433: sortable, and legal in an execution name. */
function stamp(at: Date): string {
  return at.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}
