import * as z from 'zod';
import { timelineSchema } from './bakes/timeline.js';
import { ARCHITECTURES } from './recipe/schema.js';
import {
  baseImageSchema,
  cleanupReportSchema,
  distributedSchema,
  launchAttemptSchema,
  regionalImagesSchema,
} from './state.js';

/** Every event the pipeline publishes has `source: ami-bake`. Documented in docs/events.md. */
export const EVENT_SOURCE = 'ami-bake';

const recipeRef = z.object({ name: z.string(), hash: z.string().optional() });

export const bakeStartedDetail = z.object({
  bakeId: z.string(),
  recipe: recipeRef,
  base: baseImageSchema,
  imageName: z.string(),
  buildRegion: z.string(),
  targetRegions: z.array(z.string()),
  startedAt: z.string(),
});

/** One passed test instance (TerminateTest's record). */
export const testResultSchema = z.object({
  instanceType: z.string(),
  instanceId: z.string(),
  outcome: z.literal('passed'),
  exitCode: z.number().int(),
  logTail: z.string().optional(),
  secondsToDone: z.number().nonnegative(),
});

/** The builder a bake ran on: the type and market LaunchBuilder used, and the capacity refusals before it. */
export const launchedBuilderSchema = z.object({
  instanceType: z.string(),
  market: z.enum(['on-demand', 'spot']),
  /** Absent when the first candidate launched. */
  attempts: z.array(launchAttemptSchema).optional(),
});

export const bakeSucceededDetail = z.object({
  bakeId: z.string(),
  recipe: recipeRef,
  base: baseImageSchema,
  imageName: z.string(),
  buildRegion: z.string(),
  /** By region. Several architectures: the first listed architecture's (all are in `architectures`). */
  images: regionalImagesSchema,
  /** Several architectures in one request (recipe `architectures`): every image, by architecture and region. */
  architectures: z.partialRecord(z.enum(ARCHITECTURES), regionalImagesSchema).optional(),
  /**
   * The recipe's launch test (`test`): one passed test instance per type, with the seconds from its
   * launch to the script's result. Absent when the recipe has no `test`.
   */
  tests: z.array(testResultSchema).optional(),
  /** The builder's type and market, and why (capacity refusals of earlier candidates). Absent for a group's request. */
  builder: launchedBuilderSchema.optional(),
  /**
   * The recipe's SSM parameter and launch template versions now pointing at the images, by region
   * and architecture (`distribution.ssmParameter`, `distribution.launchTemplates`). Absent when
   * the recipe distributes nothing.
   */
  distributed: distributedSchema.omit({ at: true }).optional(),
  /** Seconds spent in each stage, in pipeline order. */
  stages: z.record(z.string(), z.number().nonnegative()),
  /** The stages on one time axis, copies side by side (what `ami-bake status` draws; docs/operations.md). */
  timeline: timelineSchema.optional(),
  durationSeconds: z.number().nonnegative(),
  finishedAt: z.string(),
});

export const bakeFailedDetail = z.object({
  bakeId: z.string(),
  recipe: recipeRef,
  /** The state that failed, e.g. `WaitForBuilder` or `CopyImages` (for several architectures: the failed one's). */
  stage: z.string(),
  /** Several architectures in one request: the architecture that failed (every architecture was cleaned up). */
  architecture: z.enum(ARCHITECTURES).optional(),
  /**
   * Where it failed: for CopyImages and FinalizeImage the region the cause names (absent if none,
   * e.g. a copy's States.Timeout); for the other stages the build region.
   */
  region: z.string().optional(),
  error: z.string(),
  cause: z.string(),
  cleanup: cleanupReportSchema,
  /** The stages that ran on one time axis, ending with the failed one. Absent when ResolveRecipe failed. */
  timeline: timelineSchema.optional(),
  finishedAt: z.string(),
});

/** Nothing changed since the last bake: its images are reused and nothing is created. */
export const bakeSkippedDetail = z.object({
  recipe: recipeRef,
  contentKey: z.string(),
  base: z.object({ imageId: z.string() }),
  images: regionalImagesSchema,
  source: z.string(),
  reason: z.string().optional(),
  skippedAt: z.string(),
});

/** Why retention kept an image (docs/recipes.md#retention). */
export const RETENTION_KEPT_REASONS = [
  /** One of the recipe's newest `keep` bakes of its architecture. */
  'newest',
  /** Its bake has a live instance or an image that is not available yet: not judged. */
  'in-progress',
  /** DescribeImages shows deregistration protection (never turned off by retention). */
  'deregistration-protection',
  /** The default or latest version of a launch template names it. */
  'launch-template',
  /** A pending, running, stopping or stopped instance was launched from it. */
  'instance',
  /** An Auto Scaling launch configuration names it. */
  'launch-configuration',
  /** An Auto Scaling group pins a launch template version that names it. */
  'auto-scaling-group',
  /** The recipe's distribution.ssmParameter holds it. */
  'ssm-parameter',
  /** Whether it is in use could not be checked: it is kept until it can be. */
  'unverified',
] as const;

const retentionImage = z.object({
  imageId: z.string(),
  bakeId: z.string(),
  architecture: z.string(),
  createdAt: z.string().optional(),
});

export const retentionRegionSchema = z.object({
  retired: z.array(retentionImage.extend({ deletedSnapshots: z.array(z.string()) })),
  kept: z.array(
    retentionImage.extend({
      reasons: z.array(z.object({ kind: z.enum(RETENTION_KEPT_REASONS), detail: z.string() })).min(1),
    }),
  ),
});

/** Retention ran for a recipe: what it deregistered (with the snapshots it deleted) and what it kept, and why. */
export const imagesRetiredDetail = z.object({
  recipe: recipeRef,
  /** The bake whose Bake Succeeded ran retention; absent when the schedule or a request ran it. */
  bakeId: z.string().optional(),
  trigger: z.enum(['bake', 'schedule', 'request']),
  keep: z.number().int().min(1),
  /** Every region looked in, by region. */
  regions: z.record(z.string(), retentionRegionSchema),
  /** What went wrong: regions not inspected, images or snapshots that could not be removed. */
  problems: z.array(z.string()),
  finishedAt: z.string(),
});

export const EVENT_DETAILS = {
  'Bake Started': bakeStartedDetail,
  'Bake Succeeded': bakeSucceededDetail,
  'Bake Failed': bakeFailedDetail,
  'Bake Skipped': bakeSkippedDetail,
  'Images Retired': imagesRetiredDetail,
} as const;

export type DetailType = keyof typeof EVENT_DETAILS;
export type BakeStartedDetail = z.infer<typeof bakeStartedDetail>;
export type BakeSucceededDetail = z.infer<typeof bakeSucceededDetail>;
export type BakeFailedDetail = z.infer<typeof bakeFailedDetail>;
export type BakeSkippedDetail = z.infer<typeof bakeSkippedDetail>;
export type ImagesRetiredDetail = z.infer<typeof imagesRetiredDetail>;
export type RetentionKeptReason = (typeof RETENTION_KEPT_REASONS)[number];
