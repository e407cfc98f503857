import type { Architecture } from '../recipe/schema.js';
import type { BakeResults } from './states.js';

/** One image a bake made: the build region's or a copy, of one architecture. */
export interface BakedImage {
  architecture: Architecture;
  region: string;
  imageId: string;
  snapshotIds: string[];
  /** The build region's image, which the copies were made from. */
  source: boolean;
}

/** The part of a bake's state that names its images. */
export type ImagesState = Pick<BakeResults, 'image' | 'imageReady' | 'copies'> & {
  context?: { base?: { architecture: Architecture }; architecture?: Architecture };
  /** A group's request (several architectures): each child's final state, one per architecture. */
  architectures?: readonly ImagesState[];
};

/** Images by architecture, then region: how Bake Succeeded and a local bake's result group them. */
export function imagesByArchitecture(
  images: readonly BakedImage[],
): Partial<Record<Architecture, Record<string, { imageId: string; snapshotIds: string[] }>>> {
  const grouped: Partial<Record<Architecture, Record<string, { imageId: string; snapshotIds: string[] }>>> =
    {};
  for (const { architecture, region, imageId, snapshotIds } of images) {
    grouped[architecture] = { ...grouped[architecture], [region]: { imageId, snapshotIds } };
  }
  return grouped;
}

/**
 * Every image a bake made, by architecture and region, in the order they were made: the one home
 * for reading them (DistributeImage, Bake Succeeded, retention). Images still being created (no
 * snapshot ids yet) are included with what is known.
 */
export function bakedImages(state: ImagesState): BakedImage[] {
  if (state.architectures) return state.architectures.flatMap(bakedImages);
  const architecture = state.context?.architecture ?? state.context?.base?.architecture ?? 'x86_64';
  const images: BakedImage[] = [];
  if (state.image) {
    images.push({
      architecture,
      region: state.image.region,
      imageId: state.image.imageId,
      snapshotIds: state.imageReady?.imageId === state.image.imageId ? state.imageReady.snapshotIds : [],
      source: true,
    });
  }
  for (const copy of state.copies ?? []) {
    images.push({
      architecture,
      region: copy.region,
      imageId: copy.imageId,
      snapshotIds: copy.snapshotIds,
      source: false,
    });
  }
  return images;
}
