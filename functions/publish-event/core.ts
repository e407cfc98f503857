import * as z from 'zod';
import type { EventsSend } from '../../lib/aws/eventbridge.js';
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
import { reportOf } from '../cleanup/report.js';

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
      builder: stageDoneSchema.optional(),
      bootstrap: stageDoneSchema.optional(),
      stopped: stageDoneSchema.optional(),
      image: stageDoneSchema.optional(),
      imageReady: imageReadySchema.optional(),
      copies: z.array(copySchema).optional(),
      finalized: finalizedSchema.optional(),
      terminated: stageDoneSchema.optional(),
      failure: failureSchema.optional(),
      cleanup: z.unknown().optional(),
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
  const empty: CleanupReport = {
    terminatedInstances: [],
    deregisteredImages: [],
    deletedSnapshots: [],
    problems: [],
  };
  const cleanup = (bake.cleanup as CleanupReport | undefined) ?? failedCleanup(bake.cleanupFailure) ?? empty;
  const cause = causeText(failure.Cause);
  // Copies run in every target region and FinalizeImage works in all of them: their causes name
  // the region (or say nothing about it, like a copy's States.Timeout). The rest runs at home,
  // whatever region a bootstrap's log tail happens to mention.
  const elsewhere = stage === 'CopyImages' || stage === 'FinalizeImage';
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
 * (functions/cleanup/core.ts); any other failure is only a problem.
 */
function failedCleanup(failure: Bake['cleanupFailure']): CleanupReport | undefined {
  if (!failure) return undefined;
  const message = causeText(failure.Cause);
  const report = failure.Error === 'CleanupIncompleteError' ? reportOf(message) : undefined;
  if (report) return { ...report, problems: report.problems.map((p) => `cleanup incomplete: ${p}`) };
  return {
    terminatedInstances: [],
    deregisteredImages: [],
    deletedSnapshots: [],
    problems: [`cleanup failed: ${failure.Error}: ${message}`],
  };
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

/** Lambda errors arrive as a JSON Cause ({errorType, errorMessage, trace}); keep the message only. */
export function causeText(cause: string | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    return typeof parsed.errorMessage === 'string' ? parsed.errorMessage : cause;
  } catch {
    return cause;
  }
}

/** Seconds per stage, from the completion time each state recorded. */
export function stageDurations(bake: Bake): Record<string, number> {
  const c = bake.context;
  if (!c) return {};
  const lastCopy = (bake.copies ?? [])
    .map((x) => x.at)
    .sort()
    .at(-1);
  const marks: [string, string | undefined][] = [
    ['ResolveRecipe', c.at],
    ['LaunchBuilder', bake.builder?.at],
    ['WaitForBuilder', bake.bootstrap?.at],
    ['StopBuilder', bake.stopped?.at],
    ['CreateImage', bake.image?.at],
    ['WaitForImage', bake.imageReady?.at],
    ['CopyImages', lastCopy ?? bake.imageReady?.at],
    ['FinalizeImage', bake.finalized?.at],
    ['TerminateBuilder', bake.terminated?.at],
  ];
  const out: Record<string, number> = {};
  let previous = c.startedAt;
  for (const [stage, at] of marks) {
    if (!at) continue;
    out[stage] = seconds(previous, at);
    previous = at;
  }
  return out;
}

function seconds(from: string, to: string): number {
  return Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 10) / 100);
}
