import { DescribeImagesCommand } from '@aws-sdk/client-ec2';
import type { Ec2Send } from '../aws/ec2.js';
import { snapshotIdsOf } from '../aws/images.js';
import { TAG } from '../tags.js';

export type RegionalImages = Record<string, { imageId: string; snapshotIds: string[] }>;

/**
 * The newest available image carrying this content key in every region, or undefined when one
 * region has none (then the bake is needed, at least to fill that region).
 */
export async function imagesWithContentKey(
  ec2: (region: string) => Ec2Send,
  contentKey: string,
  regions: readonly string[],
): Promise<RegionalImages | undefined> {
  const found: RegionalImages = {};
  for (const region of new Set(regions)) {
    const { Images = [] } = await ec2(region).send(
      new DescribeImagesCommand({
        Owners: ['self'],
        Filters: [
          { Name: `tag:${TAG.contentKey}`, Values: [contentKey] },
          { Name: 'state', Values: ['available'] },
        ],
      }),
    );
    const newest = Images.sort((a, b) => (b.CreationDate ?? '').localeCompare(a.CreationDate ?? ''))[0];
    if (!newest?.ImageId) return undefined;
    found[region] = { imageId: newest.ImageId, snapshotIds: snapshotIdsOf(newest) };
  }
  return found;
}
