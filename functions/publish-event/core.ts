import { z } from 'zod';
import type { EventsSend } from '../../lib/aws/clients.js';
import { EventNotPublishedError } from '../../lib/errors.js';
import type { DetailType } from '../../lib/events.js';
import { putBakeEvent } from '../../lib/publish.js';
import {
  type CleanupReport,
  contextSchema,
  copySchema,
  failureSchema,
  finalizedSchema,
  imageReadySchema,
  stageDoneSchema,
} from '../../lib/state.js';

export interface PublishDeps {
  events: EventsSend;
  busName: string;
  now: () => Date;
}

/** The state as the publish states see it; lenient, because a failed bake may lack any part. */
export const publishInputSchema = z.object({
  detailType: z.enum(['Bake Started', 'Bake Succeeded', 'Bake Failed']),
  bake: z
    .object({
      bakeId: z.string(),
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
  const eventId = await putBakeEvent(deps.events, deps.busName, detailType, detail);
  return { detailType, eventId };
}

function buildDetail(type: DetailType, bake: Bake, now: Date): unknown {
  const c = bake.context;
  const recipe = { name: c?.recipeName ?? bake.recipe?.name ?? 'unknown', hash: c?.recipeHash };
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
  const cleanup = (bake.cleanup as CleanupReport | undefined) ?? {
    ...empty,
    problems: bake.cleanupFailure
      ? [`cleanup failed: ${bake.cleanupFailure.Error}: ${causeText(bake.cleanupFailure.Cause)}`]
      : [],
  };
  return {
    bakeId: bake.bakeId,
    recipe,
    stage,
    error: failure.Error,
    cause: causeText(failure.Cause),
    cleanup,
    finishedAt: now.toISOString(),
  };
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
