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
  context?: { base?: { architecture: Architecture } };
};

/**
 * Every image a bake made, by architecture and region, in the order they were made: the one home
 * for reading them (DistributeImage, Bake Succeeded, retention). Images still being created (no
 * snapshot ids yet) are included with what is known.
 */
export function bakedImages(state: ImagesState): BakedImage[] {
  const architecture = state.context?.base?.architecture ?? 'x86_64';
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
