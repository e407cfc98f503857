import {
  DescribeExecutionCommand,
  type DescribeExecutionOutput,
  GetExecutionHistoryCommand,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import * as z from 'zod';
import type { SfnSend } from '../aws/sfn.js';
import { causeText } from '../cause.js';
import { executionArn } from '../start/executions.js';
import { recipeNameOfInput } from '../start/resolved-recipe.js';
import {
  builderSchema,
  type CleanupReport,
  cleanupReportSchema,
  copySchema,
  failureSchema,
  finalizedSchema,
  imageReadySchema,
  imageRefSchema,
} from '../state.js';
import { resultKey } from '../workflow/states.js';

export const BAKE_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'] as const;

/**
 * The Error of the Fail state BakeSucceededUnannounced (statemachine/bake.asl.yml): the images
 * are finished, shared and kept, but Bake Succeeded could not be published, so consumers were
 * not told. The execution is FAILED (alarms see it); nothing was cleaned up.
 */
export const BAKE_NOT_ANNOUNCED = 'BakeSucceededNotAnnounced';
/** The Fail state that ends such a bake. */
export const UNANNOUNCED_STATE = 'BakeSucceededUnannounced';
export type BakeStatusName = (typeof BAKE_STATUSES)[number];

export interface StageTiming {
  name: string;
  enteredAt: string;
  exitedAt?: string;
  seconds?: number;
  outcome: 'running' | 'succeeded' | 'failed' | 'aborted' | 'timed-out';
}

export interface BakeImage {
  imageId: string;
  snapshotIds?: string[];
}

export interface BakeSummary {
  bakeId: string;
  executionArn: string;
  recipe: string;
  /** The execution status; PENDING_REDRIVE is passed through as Step Functions says it. */
  status: string;
  startedAt?: string;
  stoppedAt?: string;
  /** The stage in progress (RUNNING), the one that failed (FAILED), or the one stopped (ABORTED, TIMED_OUT). */
  stage: string | null;
  stages: StageTiming[];
  /**
   * The iterations of a Map stage, side by side: one per copy target region (CopyImage entered to
   * WaitForCopy exited), so the timeline draws the copies in parallel.
   */
  lanes?: (StageTiming & { lane: string })[];
  /** What the bake created so far, by region. After a failure, `cleanup` says what was removed. */
  images: Record<string, BakeImage>;
  /**
   * A request with several architectures: each architecture's bake, a child execution with a
   * status of its own under its bake id (docs/decisions/0006-architectures-as-child-executions.md).
   */
  architectures?: { architecture: string; bakeId: string }[];
  /** The builder's type and market once launched, with the capacity refusals before it (LaunchBuilder). */
  builder?: Pick<z.infer<typeof builderSchema>, 'instanceType' | 'market' | 'attempts'>;
  error?: { stage?: string; error: string; cause: string };
  cleanup?: CleanupReport;
  /**
   * Whether Bake Succeeded was published: true for a succeeded bake; false when the images exist
   * and were kept but the event failed for good (error BakeSucceededNotAnnounced); else absent.
   */
  announced?: boolean;
}

export interface FetchedBake {
  execution: DescribeExecutionOutput;
  events: HistoryEvent[];
}

/** The recipe is the part of a bake id before the first `_` (see lib/start/start-bake.ts). */
export const recipeOfBakeId = (bakeId: string): string => bakeId.split('_')[0] ?? bakeId;

/** The results status reads, under the keys their states keep them (lib/workflow/states.ts). */
const stateShape = z.object({
  [resultKey('LaunchBuilder')]: builderSchema.optional().catch(undefined),
  [resultKey('CreateImage')]: imageRefSchema.optional().catch(undefined),
  [resultKey('WaitForImage')]: imageReadySchema.optional().catch(undefined),
  [resultKey('CopyImage')]: imageRefSchema.omit({ at: true }).optional().catch(undefined),
  [resultKey('FinalizeImage')]: finalizedSchema.optional().catch(undefined),
  failure: failureSchema.optional().catch(undefined),
  [resultKey('Cleanup')]: cleanupReportSchema.optional().catch(undefined),
  // A request with several architectures: ResolveRecipe lists its children.
  context: z
    .object({ architectures: z.array(z.object({ architecture: z.string(), bakeId: z.string() })).optional() })
    .optional()
    .catch(undefined),
});
type StateShape = z.infer<typeof stateShape>;

/** State inputs and outputs are JSON strings of the whole state; anything unreadable counts as empty. */
function state(json: string | undefined): StateShape {
  if (!json) return {};
  try {
    const parsed = stateShape.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

const iso = (d: Date | undefined) => (d ? d.toISOString() : undefined);
const seconds = (from: Date, to: Date) => Math.max(0, Math.round((to.getTime() - from.getTime()) / 10) / 100);
const TERMINAL_STATES = new Set(['SucceedStateEntered', 'FailStateEntered']);
const END_OUTCOME: Record<string, StageTiming['outcome']> = {
  ExecutionFailed: 'failed',
  ExecutionAborted: 'aborted',
  ExecutionTimedOut: 'timed-out',
};

/**
 * Summarizes a bake from DescribeExecution and its history (oldest first). Pure. A state left by
 * a Catch has no *StateExited event: it ends, failed, when the next state is entered. Events
 * inside the CopyImages Map (CopyImage, WaitForCopy per region) are not stages of their own.
 */
export function summarizeBake({ execution, events }: FetchedBake): BakeSummary {
  const bakeId = execution.name ?? '';
  const stages: StageTiming[] = [];
  const images: Record<string, BakeImage> = {};
  const entered = new Map<string, StateShape>();
  let open: { timing: StageTiming; at: Date } | undefined;
  let inMap = false;
  let finalized: Record<string, BakeImage> | undefined;
  let builder: BakeSummary['builder'];
  let architectures: BakeSummary['architectures'];
  const lanes: NonNullable<BakeSummary['lanes']> = [];
  let executionError: { error: string; cause: string } | undefined;

  const close = (at: Date, outcome: StageTiming['outcome']) => {
    if (!open) return;
    Object.assign(open.timing, { exitedAt: at.toISOString(), seconds: seconds(open.at, at), outcome });
    open = undefined;
  };
  const readExit = (name: string, s: StateShape) => {
    if (name === 'LaunchBuilder' && s.builder?.instanceType) {
      const { instanceType, market, attempts } = s.builder;
      builder = { instanceType, market: market ?? 'on-demand', ...(attempts?.length ? { attempts } : {}) };
    }
    if (name === 'CreateImage' && s.image) images[s.image.region] = { imageId: s.image.imageId };
    if (name === 'WaitForImage' && s.image && s.imageReady)
      images[s.image.region] = { imageId: s.imageReady.imageId, snapshotIds: s.imageReady.snapshotIds };
    if (s.finalized) finalized = s.finalized.images;
    if (name === 'ResolveRecipe' && s.context?.architectures) architectures = s.context.architectures;
  };

  for (const event of [...events].sort((a, b) => (a.id ?? 0) - (b.id ?? 0))) {
    const type = event.type ?? '';
    const at = event.timestamp ?? new Date(0);
    if (inMap) {
      if (type === 'TaskStateExited') readCopy(event, images);
      readLane(event, lanes, at);
      if (['MapStateExited', 'MapStateFailed', 'MapStateAborted'].includes(type)) {
        inMap = false;
        const outcome =
          type === 'MapStateExited' ? 'succeeded' : type === 'MapStateAborted' ? 'aborted' : 'failed';
        for (const lane of lanes.filter((l) => l.outcome === 'running')) {
          Object.assign(lane, {
            exitedAt: at.toISOString(),
            seconds: seconds(new Date(lane.enteredAt), at),
            outcome,
          });
        }
      }
      if (type !== 'MapStateExited') continue;
    }
    if (type.endsWith('StateEntered')) {
      const name = event.stateEnteredEventDetails?.name ?? '?';
      close(at, 'failed');
      entered.set(name, state(event.stateEnteredEventDetails?.input));
      if (TERMINAL_STATES.has(type)) continue;
      const timing: StageTiming = { name, enteredAt: at.toISOString(), outcome: 'running' };
      stages.push(timing);
      open = { timing, at };
      inMap = type === 'MapStateEntered';
    } else if (type.endsWith('StateExited')) {
      const name = event.stateExitedEventDetails?.name ?? '?';
      if (open?.timing.name === name) close(at, 'succeeded');
      readExit(name, state(event.stateExitedEventDetails?.output));
    } else if (type in END_OUTCOME) {
      close(at, END_OUTCOME[type] ?? 'failed');
      const d =
        event.executionFailedEventDetails ??
        event.executionAbortedEventDetails ??
        event.executionTimedOutEventDetails;
      if (d) executionError = { error: d.error ?? type, cause: causeText(d.cause) };
    } else if (type === 'ExecutionSucceeded') {
      close(at, 'succeeded');
    }
  }

  const status = execution.status ?? 'UNKNOWN';
  const unannounced = entered.get(UNANNOUNCED_STATE);
  const failed = entered.get('PublishBakeFailed') ?? entered.get('Cleanup') ?? unannounced;
  const [failedStage, failure] = Object.entries(failed?.failure ?? {})[0] ?? [];
  const error = unannounced
    ? {
        stage: failedStage ?? 'PublishBakeSucceeded',
        error: BAKE_NOT_ANNOUNCED,
        cause: unannouncedCause(finalized ?? images, failure),
      }
    : failure && failedStage
      ? { stage: failedStage, error: failure.Error, cause: causeText(failure.Cause) }
      : executionError;
  const cleanup = entered.get('PublishBakeFailed')?.cleanup;
  const last = stages.at(-1)?.name ?? null;
  const stage =
    status === 'SUCCEEDED'
      ? null
      : status === 'FAILED'
        ? (failedStage ?? stages.findLast((s) => s.outcome === 'failed')?.name ?? last)
        : last;
  return {
    bakeId,
    executionArn: execution.executionArn ?? '',
    recipe: recipeOf(execution) ?? recipeOfBakeId(bakeId),
    status,
    startedAt: iso(execution.startDate),
    stoppedAt: iso(execution.stopDate),
    stage,
    stages,
    ...(lanes.length > 0 ? { lanes } : {}),
    images: finalized ?? images,
    ...(architectures ? { architectures } : {}),
    ...(builder ? { builder } : {}),
    ...(error ? { error } : {}),
    ...(cleanup ? { cleanup } : {}),
    ...(status === 'SUCCEEDED' ? { announced: true } : unannounced ? { announced: false } : {}),
  };
}

/** Says first that the images exist (and which), then why Bake Succeeded was not published. */
function unannouncedCause(
  images: Record<string, BakeImage>,
  failure: { Error: string; Cause?: string } | undefined,
): string {
  const kept = Object.entries(images)
    .map(([region, i]) => `${region} ${i.imageId}`)
    .join(', ');
  const why = failure ? `${failure.Error}: ${causeText(failure.Cause)}` : 'unknown error';
  return `the images exist and were kept: ${kept || 'none recorded'}; Bake Succeeded was not published (${why})`;
}

/** CopyImage's exit carries `copy`; WaitForCopy's output is the copy, snapshots included. */
function readCopy(event: HistoryEvent, images: Record<string, BakeImage>) {
  const { name, output } = event.stateExitedEventDetails ?? {};
  if (name === 'CopyImage') {
    const copy = state(output).copy;
    if (copy) images[copy.region] = { imageId: copy.imageId };
  }
  if (name === 'WaitForCopy' && output) {
    try {
      const ready = copySchema.safeParse(JSON.parse(output));
      if (ready.success)
        images[ready.data.region] = { imageId: ready.data.imageId, snapshotIds: ready.data.snapshotIds };
    } catch {
      // Unreadable output: the CopyImage exit already named the image.
    }
  }
}

function recipeOf(execution: DescribeExecutionOutput): string | undefined {
  return recipeNameOfInput(execution.input);
}

/** DescribeExecution plus the whole history (paged); undefined when the execution does not exist. */
export async function fetchBake(
  sfn: SfnSend,
  stateMachineArn: string,
  bakeId: string,
): Promise<FetchedBake | undefined> {
  const arn = executionArn(stateMachineArn, bakeId);
  let execution: DescribeExecutionOutput;
  try {
    execution = await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
  } catch (error) {
    if ((error as Error).name === 'ExecutionDoesNotExist') return undefined;
    throw error;
  }
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new GetExecutionHistoryCommand({
        executionArn: arn,
        maxResults: 1000,
        includeExecutionData: true,
        nextToken,
      }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return { execution, events };
}

/** A copy's lane: from CopyImage entered (its input names the target region) to WaitForCopy exited. */
function readLane(event: HistoryEvent, lanes: NonNullable<BakeSummary['lanes']>, at: Date) {
  const type = event.type ?? '';
  if (type === 'TaskStateEntered' && event.stateEnteredEventDetails?.name === 'CopyImage') {
    const region = laneRegion(event.stateEnteredEventDetails.input);
    if (region)
      lanes.push({ name: 'CopyImages', lane: region, enteredAt: at.toISOString(), outcome: 'running' });
  }
  if (type === 'TaskStateExited' && event.stateExitedEventDetails?.name === 'WaitForCopy') {
    const region = laneRegion(event.stateExitedEventDetails.output, 'region');
    const lane = lanes.find((l) => l.lane === region && l.outcome === 'running');
    if (lane)
      Object.assign(lane, {
        exitedAt: at.toISOString(),
        seconds: seconds(new Date(lane.enteredAt), at),
        outcome: 'succeeded',
      });
  }
}

function laneRegion(json: string | undefined, key: 'target' | 'region' = 'target'): string | undefined {
  try {
    const parsed = JSON.parse(json ?? '{}') as { target?: { region?: unknown }; region?: unknown };
    const region = key === 'target' ? parsed.target?.region : parsed.region;
    return typeof region === 'string' ? region : undefined;
  } catch {
    return undefined;
  }
}
