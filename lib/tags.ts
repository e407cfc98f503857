import type { Filter, Tag } from '@aws-sdk/client-ec2';

/**
 * Lineage tags on every resource a bake creates. Cleanup and the sweeper find resources by
 * `ami-bake:bake-id`, never by ids remembered in state, so a bake that failed before a handler
 * returned an id is still cleaned up.
 */
export const TAG = {
  bakeId: 'ami-bake:bake-id',
  recipe: 'ami-bake:recipe',
  recipeHash: 'ami-bake:recipe-hash',
  baseImageId: 'ami-bake:base-image-id',
  sourceRegion: 'ami-bake:source-region',
  role: 'ami-bake:role',
} as const;

export interface Lineage {
  bakeId: string;
  recipe: string;
  recipeHash: string;
  baseImageId: string;
}

export function lineageTags(l: Lineage, extra: Record<string, string> = {}): Tag[] {
  const lineage: Record<string, string> = {
    [TAG.bakeId]: l.bakeId,
    [TAG.recipe]: l.recipe,
    [TAG.recipeHash]: l.recipeHash,
    [TAG.baseImageId]: l.baseImageId,
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
