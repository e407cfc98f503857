import * as z from 'zod';
import type { EventsSend } from '../../lib/aws/eventbridge.js';
import { bakeTimeline, stageSeconds, stageSpans, type TimedState } from '../../lib/bakes/timeline.js';
import { causeText } from '../../lib/cause.js';
import { emptyCleanupReport, reportOf } from '../../lib/cleanup/report.js';
import { EventNotPublishedError } from '../../lib/errors.js';
import { type DetailType, testResultSchema } from '../../lib/events.js';
import type { BakeEventFacts } from '../../lib/metrics.js';
import { putBakeEvent } from '../../lib/publish.js';
import { AWS_REGIONS } from '../../lib/regions.js';
import {
  builderSchema,
  type CleanupReport,
  contextSchema,
  copySchema,
  distributedSchema,
  failureSchema,
  finalizedSchema,
  imageReadySchema,
  stageDoneSchema,
} from '../../lib/state.js';
import { childFailure } from '../../lib/workflow/group.js';
import { bakedImages, type ImagesState, imagesByArchitecture } from '../../lib/workflow/images.js';
import { descriptionOf, resultKey } from '../../lib/workflow/states.js';

export interface PublishDeps {
  events: EventsSend;
  busName: string;
  now: () => Date;
  /** Backoff between sends of a throttled entry (lib/publish.ts); tests pass a fake. */
  sleep?: (ms: number) => Promise<void>;
  /** The metrics of a published event (lib/metrics.ts bakeEventMetrics, in the handler). */
  measured?: (detailType: DetailType, facts: BakeEventFacts) => void;
  /** An event that could not be published (the EventsNotPublished metric). */
  notPublished?: (detailType: DetailType) => void;
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
      [resultKey('LaunchBuilder')]: stageDoneSchema
        .extend(builderSchema.pick({ instanceType: true, market: true, attempts: true }).shape)
        .optional(),
      [resultKey('WaitForBuilder')]: stageDoneSchema.optional(),
      [resultKey('StopBuilder')]: stageDoneSchema.optional(),
      [resultKey('CreateImage')]: stageDoneSchema.optional(),
      [resultKey('WaitForImage')]: imageReadySchema.optional(),
      [resultKey('CopyImages')]: z.array(copySchema).optional(),
      [resultKey('FinalizeImage')]: finalizedSchema.optional(),
      [resultKey('TerminateBuilder')]: stageDoneSchema.optional(),
      [resultKey('DistributeImage')]: distributedSchema.optional(),
      [resultKey('TestImage')]: z.array(testResultSchema.extend({ at: z.string() })).optional(),
      // Each child's final state (a group's request); read by bakedImages, lenient like the rest.
      [resultKey('BakeArchitectures')]: z.array(z.object({}).loose()).optional(),
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
  const now = deps.now();
  const detail = buildDetail(detailType, bake, now);
  const eventId = await putBakeEvent(deps.events, deps.busName, detailType, detail, {
    sleep: deps.sleep,
  }).catch((error: unknown) => {
    deps.notPublished?.(detailType);
    throw error;
  });
  deps.measured?.(detailType, factsOf(detail as Detail, bake, now));
  return { detailType, eventId };
}

/** The parts of a published detail the metrics read. */
interface Detail {
  recipe: { name: string };
  stages?: Record<string, number>;
  durationSeconds?: number;
  stage?: string;
  cleanup?: { problems: string[] };
}

function factsOf(detail: Detail, bake: Bake, now: Date): BakeEventFacts {
  return {
    recipe: detail.recipe.name,
    ...(detail.stages ? { stages: detail.stages } : {}),
    ...(detail.durationSeconds !== undefined
      ? { durationSeconds: detail.durationSeconds }
      : bake.context
        ? { durationSeconds: seconds(bake.context.startedAt, now.toISOString()) }
        : {}),
    ...(detail.stage ? { failedStage: detail.stage } : {}),
    ...(detail.cleanup ? { cleanupProblems: detail.cleanup.problems.length } : {}),
    ...(bake.context ? { usage: usageOf(bake as TimedState, now) } : {}),
  };
}

/**
 * What a bake used, for its cost estimate (lib/cost.ts): every stage that ran is about one state
 * transition and one Lambda invocation, a wait two invocations (registerWait, resumeWait), the
 * Choice and publish states a few transitions more; a request adds its children's. The builder
 * ran from LaunchBuilder to TerminateBuilder (or to now, for a failed bake).
 */
function usageOf(bake: TimedState, now: Date): NonNullable<BakeEventFacts['usage']> {
  const spans = stageSpans(bake);
  const waits = spans.filter((s) => /^WaitFor|^CopyImages$|^TestImage$/.test(s.stage)).length;
  const ROUTING_AND_PUBLISHING = 7;
  const builder = bake.builder as { at?: string; instanceType?: string } | undefined;
  const terminated = bake.terminated as { at?: string } | undefined;
  const own = {
    transitions: spans.length + ROUTING_AND_PUBLISHING,
    invocations: spans.length + waits + 2,
    builderSeconds: builder?.at
      ? Math.max(0, (Date.parse(terminated?.at ?? now.toISOString()) - Date.parse(builder.at)) / 1000)
      : 0,
    ...(builder?.instanceType ? { instanceType: builder.instanceType } : {}),
  };
  const children = Array.isArray(bake.architectures) ? (bake.architectures as TimedState[]) : [];
  for (const child of children.map((c) => usageOf(c, now))) {
    own.transitions += child.transitions;
    own.invocations += child.invocations;
    own.builderSeconds += child.builderSeconds;
  }
  const childType = children.map((c) => (c.builder as { instanceType?: string } | undefined)?.instanceType);
  return own.instanceType || !childType[0] ? own : { ...own, instanceType: childType[0] };
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
  const timeline = bakeTimeline(bake as TimedState, now);
  // A group's request: its children made the images (lib/workflow/images.ts reads them).
  const group = bake.architectures ? imagesByArchitecture(bakedImages(bake as ImagesState)) : undefined;
  return {
    ...common,
    images: group ? Object.values(group)[0] : bake.finalized?.images,
    ...(group ? { architectures: group } : {}),
    ...(bake.tests ? { tests: bake.tests.map(({ at: _, ...test }) => test) } : {}),
    ...launchedBuilder(bake),
    ...(bake.distributed ? { distributed: distributedOf(bake.distributed) } : {}),
    stages,
    ...(timeline ? { timeline } : {}),
    durationSeconds: seconds(c.startedAt, now.toISOString()),
    finishedAt: now.toISOString(),
  };
}

/** Which type and market the builder ran on, and why: LaunchBuilder's record (absent in older results). */
function launchedBuilder(bake: Bake) {
  const b = bake.builder;
  if (!b?.instanceType) return {};
  const { instanceType, market = 'on-demand', attempts } = b;
  return { builder: { instanceType, market, ...(attempts?.length ? { attempts } : {}) } };
}

function failedDetail(bake: Bake, recipe: { name: string; hash?: string }, now: Date) {
  const [stage, failure] = Object.entries(bake.failure ?? {})[0] ?? [
    'unknown',
    { Error: 'unknown', Cause: '' },
  ];
  const cleanup =
    (bake.cleanup as CleanupReport | undefined) ?? failedCleanup(bake.cleanupFailure) ?? emptyCleanupReport();
  // One architecture of a group failed: name it and its own stage, error and cause.
  const child = stage === 'BakeArchitectures' ? childFailure(failure) : undefined;
  const timeline = bakeTimeline(bake as TimedState, now, stage);
  const drawn = timeline ? { timeline } : {};
  if (child) {
    return {
      bakeId: bake.bakeId,
      recipe,
      stage: child.stage,
      ...(child.architecture ? { architecture: child.architecture } : {}),
      region: descriptionOf(child.stage)?.everyRegion
        ? regionNamedIn(child.cause)
        : bake.context?.buildRegion,
      error: child.error,
      cause: child.cause,
      cleanup,
      ...drawn,
      finishedAt: now.toISOString(),
    };
  }
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
    ...drawn,
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

/** Seconds per stage, from the completion time each state recorded (lib/bakes/timeline.ts). */
export function stageDurations(bake: Bake): Record<string, number> {
  return stageSeconds(stageSpans(bake as TimedState));
}

function seconds(from: string, to: string): number {
  return Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 10) / 100);
}

/** What DistributeImage pointed at the images; nothing when the recipe distributes nothing. */
function distributedOf({ parameters, launchTemplates }: NonNullable<Bake['distributed']>) {
  return parameters.length + launchTemplates.length > 0 ? { parameters, launchTemplates } : undefined;
}
