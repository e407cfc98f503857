import * as z from 'zod';
import type { EventsSend } from '../../lib/aws/eventbridge.js';
import { causeText } from '../../lib/cause.js';
import { emptyCleanupReport, reportOf } from '../../lib/cleanup/report.js';
import { EventNotPublishedError } from '../../lib/errors.js';
import type { DetailType } from '../../lib/events.js';
import { putBakeEvent } from '../../lib/publish.js';
import { AWS_REGIONS } from '../../lib/regions.js';
import {
  type CleanupReport,
  contextSchema,
  copySchema,
  failureSchema,
  finalizedSchema,
  imageReadySchema,
  stageDoneSchema,
} from '../../lib/state.js';
import {
  descriptionOf,
  resultKey,
  STAGES,
  STATES,
  type StateDescription,
  type StateName,
} from '../../lib/workflow/states.js';

export interface PublishDeps {
  events: EventsSend;
  busName: string;
  now: () => Date;
  /** Backoff between sends of a throttled entry (lib/publish.ts); tests pass a fake. */
  sleep?: (ms: number) => Promise<void>;
}

/** The state as the publish states see it; lenient, because a failed bake may lack any part. */
export const publishInputSchema = z.object({
  detailType: z.enum(['Bake Started', 'Bake Succeeded', 'Bake Failed']),
  bake: z
    .object({
      bakeId: z.string(),
      /** The execution input's recipe name: all a bake that failed in ResolveRecipe has. */
      recipeName: z.string().optional().catch(undefined),
      recipe: z.object({ name: z.string() }).loose().optional().catch(undefined),
      context: contextSchema.optional(),
      // The stages' results, under the keys lib/workflow/states.ts gives them.
      [resultKey('LaunchBuilder')]: stageDoneSchema.optional(),
      [resultKey('WaitForBuilder')]: stageDoneSchema.optional(),
      [resultKey('StopBuilder')]: stageDoneSchema.optional(),
      [resultKey('CreateImage')]: stageDoneSchema.optional(),
      [resultKey('WaitForImage')]: imageReadySchema.optional(),
      [resultKey('CopyImages')]: z.array(copySchema).optional(),
      [resultKey('FinalizeImage')]: finalizedSchema.optional(),
      [resultKey('TerminateBuilder')]: stageDoneSchema.optional(),
      failure: failureSchema.optional(),
      [resultKey('Cleanup')]: z.unknown().optional(),
      cleanupFailure: z.object({ Error: z.string(), Cause: z.string().optional() }).optional(),
    })
    .loose(),
});
type PublishInput = z.infer<typeof publishInputSchema>;
type Bake = PublishInput['bake'];

/** Builds the event detail for the state, validates it against its published schema, sends it. */
export async function publishEvent({ detailType, bake }: PublishInput, deps: PublishDeps) {
  const detail = buildDetail(detailType, bake, deps.now());
  const eventId = await putBakeEvent(deps.events, deps.busName, detailType, detail, { sleep: deps.sleep });
  return { detailType, eventId };
}

function buildDetail(type: DetailType, bake: Bake, now: Date): unknown {
  const c = bake.context;
  const recipe = {
    name: c?.recipeName ?? bake.recipe?.name ?? bake.recipeName ?? 'unknown',
    hash: c?.recipeHash,
  };
  if (type === 'Bake Failed') return failedDetail(bake, recipe, now);
  if (!c) throw new EventNotPublishedError(`${type}: the bake has no resolved context`);
  const common = {
    bakeId: bake.bakeId,
    recipe,
    base: c.base,
    imageName: c.imageName,
    buildRegion: c.buildRegion,
  };
  if (type === 'Bake Started') {
    return { ...common, targetRegions: c.copyTargets.map((t) => t.region), startedAt: c.startedAt };
  }
  const stages = stageDurations(bake);
  return {
    ...common,
    images: bake.finalized?.images,
    stages,
    durationSeconds: seconds(c.startedAt, now.toISOString()),
    finishedAt: now.toISOString(),
  };
}

function failedDetail(bake: Bake, recipe: { name: string; hash?: string }, now: Date) {
  const [stage, failure] = Object.entries(bake.failure ?? {})[0] ?? [
    'unknown',
    { Error: 'unknown', Cause: '' },
  ];
  const cleanup =
    (bake.cleanup as CleanupReport | undefined) ?? failedCleanup(bake.cleanupFailure) ?? emptyCleanupReport();
  const cause = causeText(failure.Cause);
  // Copies run in every target region and FinalizeImage works in all of them: their causes name
  // the region (or say nothing about it, like a copy's States.Timeout). The rest runs at home,
  // whatever region a bootstrap's log tail happens to mention.
  const elsewhere = descriptionOf(stage)?.everyRegion === true;
  return {
    bakeId: bake.bakeId,
    recipe,
    stage,
    region: elsewhere ? regionNamedIn(cause) : bake.context?.buildRegion,
    error: failure.Error,
    cause,
    cleanup,
    finishedAt: now.toISOString(),
  };
}

/**
 * What a cleanup that gave up still did. Its last attempt's CleanupIncompleteError carries that
 * attempt's report, which lists everything removed across attempts of what the state names
 * (lib/cleanup/core.ts); any other failure is only a problem.
 */
function failedCleanup(failure: Bake['cleanupFailure']): CleanupReport | undefined {
  if (!failure) return undefined;
  const message = causeText(failure.Cause);
  const report = failure.Error === 'CleanupIncompleteError' ? reportOf(message) : undefined;
  if (report) return { ...report, problems: report.problems.map((p) => `cleanup incomplete: ${p}`) };
  return emptyCleanupReport([`cleanup failed: ${failure.Error}: ${message}`]);
}

/** The first AWS region a text names as a word of its own (`in eu-west-1`, `copy to eu-west-1:`). */
export function regionNamedIn(text: string): string | undefined {
  const found = AWS_REGIONS.map((r) => ({
    r,
    at: text.search(new RegExp(`(?<![a-z0-9-])${r}(?![a-z0-9-])`)),
  }))
    .filter((x) => x.at >= 0)
    .sort((a, b) => a.at - b.at);
  return found[0]?.r;
}

/** Seconds per stage, from the completion time each state recorded. */
export function stageDurations(bake: Bake): Record<string, number> {
  const c = bake.context;
  if (!c) return {};
  const out: Record<string, number> = {};
  let previous = c.startedAt;
  let before: string | undefined;
  for (const stage of STAGES) {
    const at = completedAt(stage, bake, before);
    before = at;
    if (!at) continue;
    out[stage] = seconds(previous, at);
    previous = at;
  }
  return out;
}

/**
 * When a stage finished, from the time its result records (lib/workflow/states.ts says where).
 * The publish states record none; a Map is done with its last iteration, or with the stage before
 * it when there was nothing to copy.
 */
function completedAt(stage: StateName, bake: Bake, before: string | undefined): string | undefined {
  // Its result is the whole state; the context it adds carries the time.
  if (stage === 'ResolveRecipe') return bake.context?.at;
  const d: StateDescription = STATES[stage];
  if (d.kind === 'publish' || !d.resultPath) return undefined;
  const result: unknown = (bake as Record<string, unknown>)[d.resultPath.slice(2)];
  if (d.kind === 'map') {
    const items = Array.isArray(result) ? (result as { at?: string }[]) : [];
    return (
      items
        .map((x) => x.at)
        .filter((at): at is string => at !== undefined)
        .sort()
        .at(-1) ?? before
    );
  }
  return (result as { at?: string } | undefined)?.at;
}

function seconds(from: string, to: string): number {
  return Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 10) / 100);
}
