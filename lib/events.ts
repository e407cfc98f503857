import * as z from 'zod';
import { baseImageSchema, cleanupReportSchema, regionalImagesSchema } from './state.js';

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

export const bakeSucceededDetail = z.object({
  bakeId: z.string(),
  recipe: recipeRef,
  base: baseImageSchema,
  imageName: z.string(),
  buildRegion: z.string(),
  images: regionalImagesSchema,
  /** Seconds spent in each stage, in pipeline order. */
  stages: z.record(z.string(), z.number().nonnegative()),
  durationSeconds: z.number().nonnegative(),
  finishedAt: z.string(),
});

export const bakeFailedDetail = z.object({
  bakeId: z.string(),
  recipe: recipeRef,
  /** The state that failed, e.g. `WaitForBuilder` or `CopyImages`. */
  stage: z.string(),
  /**
   * Where it failed: for CopyImages and FinalizeImage the region the cause names (absent if none,
   * e.g. a copy's States.Timeout); for the other stages the build region.
   */
  region: z.string().optional(),
  error: z.string(),
  cause: z.string(),
  cleanup: cleanupReportSchema,
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

export const EVENT_DETAILS = {
  'Bake Started': bakeStartedDetail,
  'Bake Succeeded': bakeSucceededDetail,
  'Bake Failed': bakeFailedDetail,
  'Bake Skipped': bakeSkippedDetail,
} as const;

export type DetailType = keyof typeof EVENT_DETAILS;
export type BakeStartedDetail = z.infer<typeof bakeStartedDetail>;
export type BakeSucceededDetail = z.infer<typeof bakeSucceededDetail>;
export type BakeFailedDetail = z.infer<typeof bakeFailedDetail>;
export type BakeSkippedDetail = z.infer<typeof bakeSkippedDetail>;
