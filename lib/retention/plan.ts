import type { RetentionKeptReason } from '../events.js';
import type { RecipeImage } from './inventory.js';

export interface Reason {
  kind: RetentionKeptReason;
  detail: string;
}

/** One bake of one architecture: its images in every region. */
export interface Bake {
  bakeId: string;
  architecture: string;
  /** Its first image's CreationDate: copies come later, the source image first. */
  createdAt: string;
  images: RecipeImage[];
}

export interface Plan {
  /** Kept without further checks: the newest bakes, and bakes not finished. */
  kept: { image: RecipeImage; reasons: Reason[] }[];
  /** Older than the newest `keep` bakes: retired unless protected or in use. */
  candidates: RecipeImage[];
}

/**
 * Which images are beyond the newest `keep` bakes, per architecture. A bake counts only when it is
 * finished: every image of it `available` and no live instance of it (its builder or test
 * instances), so a bake still running, or one that will fail and be cleaned up, never pushes a good
 * one out. Unfinished bakes are kept and not counted. Candidates that turn out to be in use are
 * kept later without counting either: retention keeps at least the newest `keep` bakes, and more
 * when older images are still in use.
 */
export function planRetention(
  images: readonly RecipeImage[],
  keep: number,
  liveBakes: ReadonlySet<string>,
): Plan {
  const plan: Plan = { kept: [], candidates: [] };
  const byArchitecture = new Map<string, Bake[]>();
  for (const bake of bakesOf(images)) {
    byArchitecture.set(bake.architecture, [...(byArchitecture.get(bake.architecture) ?? []), bake]);
  }
  for (const [architecture, bakes] of byArchitecture) {
    let counted = 0;
    for (const bake of bakes.sort(newestFirst)) {
      const unfinished = unfinishedReason(bake, liveBakes);
      if (unfinished) {
        for (const image of bake.images) plan.kept.push({ image, reasons: [unfinished] });
      } else if (counted < keep) {
        counted += 1;
        const detail = `bake ${counted} of the newest ${keep} (${architecture})`;
        for (const image of bake.images) plan.kept.push({ image, reasons: [{ kind: 'newest', detail }] });
      } else {
        plan.candidates.push(...bake.images);
      }
    }
  }
  return plan;
}

function bakesOf(images: readonly RecipeImage[]): Bake[] {
  const bakes = new Map<string, Bake>();
  for (const image of images) {
    const key = `${image.bakeId} ${image.architecture}`;
    const bake = bakes.get(key) ?? {
      bakeId: image.bakeId,
      architecture: image.architecture,
      createdAt: image.createdAt ?? '',
      images: [],
    };
    bake.images.push(image);
    // An image without a CreationDate sorts as the oldest: it cannot make a bake look newer.
    if (image.createdAt && (bake.createdAt === '' || image.createdAt < bake.createdAt))
      bake.createdAt = image.createdAt;
    bakes.set(key, bake);
  }
  return [...bakes.values()];
}

/** Newest first; bakes made in the same millisecond by bake id, so the order is stable. */
function newestFirst(a: Bake, b: Bake): number {
  const at = Date.parse(b.createdAt || '0') - Date.parse(a.createdAt || '0');
  return at !== 0 ? at : b.bakeId.localeCompare(a.bakeId);
}

function unfinishedReason(bake: Bake, liveBakes: ReadonlySet<string>): Reason | undefined {
  if (liveBakes.has(bake.bakeId))
    return { kind: 'in-progress', detail: `bake ${bake.bakeId} still has a live instance` };
  const pending = bake.images.filter((i) => i.state !== 'available');
  if (pending.length > 0)
    return {
      kind: 'in-progress',
      detail: `bake ${bake.bakeId} has images not available: ${pending.map((i) => `${i.imageId} in ${i.region} is ${i.state}`).join(', ')}`,
    };
  return undefined;
}
