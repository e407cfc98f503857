import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import type { SfnSend } from '../aws/sfn.js';
import { emptyCleanupReport } from '../cleanup/report.js';
import { BakeNotFoundError, BakeNotRunningError } from '../errors.js';
import { type BakeFailedDetail, bakeFailedDetail } from '../events.js';
import { logger } from '../logger.js';
import { recipeHash } from '../recipe/hash.js';
import { AWS_REGIONS } from '../regions.js';
import { recipeOfExecution } from '../start/resolved-recipe.js';
import type { CleanupReport } from '../state.js';
import { isFailurePath } from '../workflow/states.js';
import { stopMembers } from './members.js';
import { fetchBake, summarizeBake } from './status.js';

/** The error name of a cancelled bake: on the stopped execution and in its Bake Failed event. */
export const BAKE_CANCELLED = 'BakeCancelled';

export interface CancelDeps {
  sfn: SfnSend;
  stateMachineArn: string;
  buildRegion: string;
  /** The tag-driven cleanup of lib/cleanup; throws CleanupIncompleteError when something remains. */
  cleanup: (input: {
    bakeId: string;
    regions: readonly string[];
    members?: readonly string[];
  }) => Promise<CleanupReport>;
  publishFailed: (detail: BakeFailedDetail) => Promise<void>;
  now: () => Date;
}

export interface CancelRequest {
  bakeId: string;
  reason?: string;
  /** Who asked (the caller's IAM ARN), for the cause. */
  by?: string;
  /** Through what: `the API` (default) or `the CLI`. */
  via?: string;
}

export interface CancelResult {
  bakeId: string;
  status: 'ABORTED';
  stage: string | null;
  cleanup: CleanupReport;
  eventPublished: boolean;
}

/**
 * Stops a running bake, then does what the state machine's failure path would have done: a
 * stopped execution runs no more states, so its Cleanup and PublishBakeFailed never run.
 */
export async function cancelBake(request: CancelRequest, deps: CancelDeps): Promise<CancelResult> {
  const { bakeId } = request;
  const fetched = await fetchBake(deps.sfn, deps.stateMachineArn, bakeId);
  if (!fetched) throw new BakeNotFoundError(`no bake ${bakeId}`);
  const bake = summarizeBake(fetched);
  if (bake.status !== 'RUNNING')
    throw new BakeNotRunningError(`bake ${bakeId} already ended: ${bake.status}`);
  // The failure path already ends the bake: stopping the execution there would lose its real failure.
  if (bake.stage && isFailurePath(bake.stage)) {
    throw new BakeNotRunningError(
      `bake ${bakeId} is already failing (stage ${bake.stage}) and ends on its own`,
    );
  }

  const cause = `cancelled through ${request.via ?? 'the API'}${request.by ? ` by ${request.by}` : ''}${request.reason ? `: ${request.reason}` : ''}`;
  await deps.sfn.send(
    new StopExecutionCommand({ executionArn: bake.executionArn, error: BAKE_CANCELLED, cause }),
  );
  // A request with several architectures: its children are executions of their own. Stopped too,
  // and cleaned with it below whatever the stop answered (a child that already ended, or one not
  // started yet): the cleanup goes by their bake-id tags, and cleanupEnded runs again for each.
  const members = (bake.architectures ?? []).map((a) => a.bakeId);
  await stopMembers(deps.sfn, deps.stateMachineArn, members, { error: BAKE_CANCELLED, cause });

  const recipe = recipeOfExecution(fetched.execution.input, fetched.events);
  const targets = (recipe?.distribution?.regions ?? []).filter((r): r is string =>
    (AWS_REGIONS as readonly unknown[]).includes(r),
  );
  const cleanup = await cleanupReport(() =>
    deps.cleanup({
      bakeId,
      regions: [deps.buildRegion, ...targets],
      ...(members.length ? { members } : {}),
      ...(recipe?.builder?.spot !== undefined ? { spot: true } : {}),
    }),
  );

  const detail = bakeFailedDetail.parse({
    bakeId,
    recipe: { name: bake.recipe, hash: recipe ? recipeHash(recipe) : undefined },
    stage: bake.stage ?? 'unknown',
    error: BAKE_CANCELLED,
    cause,
    cleanup,
    finishedAt: deps.now().toISOString(),
  });
  const eventPublished = await deps.publishFailed(detail).then(
    () => true,
    (error: unknown) => {
      // The bake is stopped and cleaned up either way; the caller sees eventPublished: false.
      logger.error('Bake Failed event for a cancelled bake was not published', { bakeId, error });
      return false;
    },
  );
  return { bakeId, status: 'ABORTED', stage: bake.stage, cleanup, eventPublished };
}

/** A cleanup that could not remove everything still answers: what remains is in `problems`. */
export async function cleanupReport(run: () => Promise<CleanupReport>): Promise<CleanupReport> {
  try {
    return await run();
  } catch (error) {
    return emptyCleanupReport([`${(error as Error).name}: ${(error as Error).message}`]);
  }
}
