import * as z from 'zod';
import type { EventsSend } from '../../lib/aws/eventbridge.js';
import type { SfnSend } from '../../lib/aws/sfn.js';
import { BAKE_CANCELLED, cleanupReport } from '../../lib/bakes/cancel.js';
import { BAKE_NOT_ANNOUNCED, fetchBake, recipeOfBakeId, summarizeBake } from '../../lib/bakes/status.js';
import { type CleanupDeps, cleanup } from '../../lib/cleanup/core.js';
import { bakeFailedDetail } from '../../lib/events.js';
import { logger } from '../../lib/logger.js';
import { putBakeEvent } from '../../lib/publish.js';
import { recipeHash } from '../../lib/recipe/hash.js';
import { AWS_REGIONS } from '../../lib/regions.js';
import { recipeOfExecution } from '../../lib/start/resolved-recipe.js';
import type { CleanupReport } from '../../lib/state.js';

/**
 * What Step Functions puts on the default bus when an execution ends
 * (https://docs.aws.amazon.com/step-functions/latest/dg/cw-events.html). `input` is the execution
 * input as a JSON string, or null when the event would exceed EventBridge's size limit
 * (inputDetails.included is then false): DescribeExecution has it in full.
 */
export const executionEndedSchema = z.object({
  source: z.literal('aws.states'),
  'detail-type': z.literal('Step Functions Execution Status Change'),
  detail: z.object({
    executionArn: z.string(),
    stateMachineArn: z.string(),
    /** The execution name is the bake id (lib/start/start-bake.ts). */
    name: z.string().min(1),
    status: z.enum(['ABORTED', 'TIMED_OUT', 'FAILED']),
    input: z.string().nullish(),
    error: z.string().nullish(),
    cause: z.string().nullish(),
  }),
});
export type ExecutionEnded = z.infer<typeof executionEndedSchema>['detail'];

export interface CleanupEndedDeps {
  buildRegion: string;
  /** Passed to the cleanup core (lib/cleanup/core.ts) as it is. */
  cleanup: CleanupDeps;
  sfn: SfnSend;
  events: EventsSend;
  busName: string;
  now: () => Date;
}

export interface CleanupEndedResult {
  bakeId: string;
  status: ExecutionEnded['status'];
  /** Undefined when nothing was cleaned: see `skipped`. */
  cleanup?: CleanupReport;
  eventPublished: boolean;
  skipped?: string;
}

/** The `error` of the Bake Failed event of a bake whose execution was stopped or timed out. */
export const ENDED_ERROR = { ABORTED: 'ExecutionAborted', TIMED_OUT: 'ExecutionTimedOut' } as const;

/**
 * Cleans up after an execution that ended without its own failure path: stopped by hand (console,
 * StopExecution) or by the state machine's TimeoutSeconds, neither of which runs Cleanup; and,
 * harmlessly again, after a failed one. Publishes Bake Failed only where no one else does:
 * a FAILED bake published its own, and a bake stopped by `cancel` publishes one from the cancel.
 */
export async function cleanupEnded(
  ended: ExecutionEnded,
  deps: CleanupEndedDeps,
): Promise<CleanupEndedResult> {
  const { status, name: bakeId } = ended;
  if (status === 'FAILED' && ended.error === BAKE_NOT_ANNOUNCED) {
    // The images are finished and shared; only the announcement failed. Never remove them.
    return { bakeId, status, eventPublished: false, skipped: `${BAKE_NOT_ANNOUNCED}: the images are kept` };
  }
  const cancelled = status === 'ABORTED' && ended.error === BAKE_CANCELLED;
  // A child of a group (BakeArchitectures) stopped because a sibling failed: its request publishes.
  const publish = status !== 'FAILED' && !cancelled && !isChild(ended.input);
  // Executions carry a recipe name only: the recipe (its regions) is in ResolveRecipe's output.
  const fetched =
    publish || !recipeOf(ended.input) ? await fetchBake(deps.sfn, ended.stateMachineArn, bakeId) : undefined;
  const recipe = recipeOfExecution(ended.input ?? fetched?.execution.input, fetched?.events);
  const targets = (recipe?.distribution?.regions ?? []).filter((r): r is string =>
    (AWS_REGIONS as readonly unknown[]).includes(r),
  );
  const report = await cleanupReport(() =>
    cleanup(
      {
        bakeId,
        regions: [deps.buildRegion, ...targets],
        ...(recipe?.builder?.spot !== undefined ? { spot: true } : {}),
      },
      deps.cleanup,
    ),
  );
  logger.info('cleaned up after an ended execution', { bakeId, status, cleanup: report });
  if (!publish) return { bakeId, status, cleanup: report, eventPublished: false };

  const summary = fetched ? summarizeBake(fetched) : undefined;
  const stage = summary?.stage ?? 'unknown';
  const how =
    status === 'ABORTED'
      ? `the execution was stopped (ABORTED) at ${stage}`
      : `the execution timed out (TIMED_OUT, the state machine's TimeoutSeconds) at ${stage}`;
  const given = [ended.error, ended.cause].filter(Boolean).join(': ');
  const detail = bakeFailedDetail.parse({
    bakeId,
    recipe: {
      name: summary?.recipe ?? (typeof recipe?.name === 'string' ? recipe.name : recipeOfBakeId(bakeId)),
      hash: recipe ? recipeHash(recipe) : undefined,
    },
    stage,
    error: ENDED_ERROR[status],
    cause: `${how}${given ? ` (${given})` : ''}; its Cleanup never ran, so cleanupEnded removed what the bake had created`,
    cleanup: report,
    finishedAt: deps.now().toISOString(),
  });
  const eventPublished = await putBakeEvent(deps.events, deps.busName, 'Bake Failed', detail).then(
    () => true,
    (error: unknown) => {
      // Cleaned up either way; a retry of this function would find nothing and report nothing.
      logger.error('Bake Failed event for an ended execution was not published', { bakeId, error });
      return false;
    },
  );
  return { bakeId, status, cleanup: report, eventPublished };
}

function isChild(input: string | null | undefined): boolean {
  try {
    return (JSON.parse(input ?? '{}') as { group?: unknown }).group !== undefined;
  } catch {
    return false;
  }
}

type LooseRecipe = { name?: unknown; distribution?: { regions?: unknown[] } };

function recipeOf(input: string | null | undefined): LooseRecipe | undefined {
  try {
    const recipe = (JSON.parse(input ?? '{}') as { recipe?: unknown }).recipe;
    return recipe !== null && typeof recipe === 'object' ? (recipe as LooseRecipe) : undefined;
  } catch {
    return undefined;
  }
}
