import type { Filter, Tag } from '@aws-sdk/client-ec2';
import { config } from './config.js';

/**
 * Lineage tags on every resource a bake creates. Cleanup and the sweeper find resources by
 * `ami-bake:bake-id`, never by ids remembered in state, so a bake that failed before a handler
 * returned an id is still cleaned up.
 */
export const TAG = {
  bakeId: 'ami-bake:bake-id',
  recipe: 'ami-bake:recipe',
  recipeHash: 'ami-bake:recipe-hash',
  contentKey: 'ami-bake:content-key',
  baseImageId: 'ami-bake:base-image-id',
  sourceRegion: 'ami-bake:source-region',
  role: 'ami-bake:role',
  /**
   * `passed`: the image passed the recipe's launch test (TerminateTest tags the build region's
   * image and snapshots; CopyImage gives it to the copies, which are made only after the test).
   */
  tested: 'ami-bake:tested',
  /**
   * The stack (service-stage) that made the resource. The functions' IAM conditions match its
   * value, and these tags can be set only at creation, so one stage cannot touch, or adopt, another
   * stage's resources (docs/security.md, "Permission boundary").
   */
  stack: 'ami-bake:stack',
} as const;

/**
 * Not written by the pipeline: a launch template's owner tags it with this key and the stack's
 * name to let that stack's DistributeImage add versions to it (its IAM condition, ResolveRecipe's
 * check; docs/recipes.md#launch-templates).
 */
export const DISTRIBUTE_TAG = 'ami-bake:distribute';

/** The value of TAG.tested on an image whose every test instance passed. */
export const TESTED = 'passed';

/** The part of a bake's context that names it on every resource. */
export interface Lineage {
  bakeId: string;
  recipeName: string;
  recipeHash: string;
  contentKey: string;
  base: { imageId: string };
}

/** Set only at creation (TagSpecifications): IAM refuses ami-bake:* keys on existing resources. */
export function lineageTags(
  l: Lineage,
  extra: Record<string, string> = {},
  stack: string = config().STACK_NAME,
): Tag[] {
  const lineage: Record<string, string> = {
    [TAG.stack]: stack,
    [TAG.bakeId]: l.bakeId,
    [TAG.recipe]: l.recipeName,
    [TAG.recipeHash]: l.recipeHash,
    [TAG.contentKey]: l.contentKey,
    [TAG.baseImageId]: l.base.imageId,
  };
  return toTags({ ...extra, ...lineage });
}

export function toTags(record: Record<string, string>): Tag[] {
  return Object.entries(record).map(([Key, Value]) => ({ Key, Value }));
}

export function fromTags(tags: readonly Tag[] | undefined): Record<string, string> {
  return Object.fromEntries((tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
}

export function bakeFilter(bakeId: string): Filter {
  return { Name: `tag:${TAG.bakeId}`, Values: [bakeId] };
}
