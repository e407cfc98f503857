import { DescribeImagesCommand, DescribeInstancesCommand, type Filter } from '@aws-sdk/client-ec2';
import type { Ec2Send } from '../aws/ec2.js';
import { snapshotIdsOf } from '../aws/images.js';
import { pages } from '../aws/pages.js';
import { fromTags, TAG } from '../tags.js';

/** One image of the recipe, as DescribeImages shows it. */
export interface RecipeImage {
  region: string;
  imageId: string;
  bakeId: string;
  /** From the image itself (x86_64, arm64, ...): a bake of several architectures has one image each. */
  architecture: string;
  createdAt?: string;
  state: string;
  snapshotIds: string[];
  /** DescribeImages' DeregistrationProtection when it is not `disabled` (enabled, or in its cooldown). */
  protection?: string;
}

export interface RegionInventory {
  images: RecipeImage[];
  /** Bakes of the recipe with a live instance here (a builder or a test instance): still running. */
  liveBakes: string[];
}

/** Live: an instance in any of these states belongs to a bake that has not finished. */
export const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped'];

/**
 * The recipe's images and running bakes in one region, found by the lineage tags only: this
 * stack's `ami-bake:stack` and the recipe's `ami-bake:recipe`. Base images and other recipes' or
 * other stages' images never match, so retention cannot touch them.
 */
export async function recipeInventory(
  ec2: Ec2Send,
  region: string,
  recipe: string,
  stack: string,
): Promise<RegionInventory> {
  const lineage: Filter[] = [
    { Name: `tag:${TAG.stack}`, Values: [stack] },
    { Name: `tag:${TAG.recipe}`, Values: [recipe] },
  ];
  const [images, liveBakes] = await Promise.all([
    pages(async (NextToken) => {
      const page = await ec2.send(
        // The owner sees its deprecated and disabled images only when asked to; both can be retired.
        new DescribeImagesCommand({
          Owners: ['self'],
          Filters: lineage,
          IncludeDeprecated: true,
          IncludeDisabled: true,
          NextToken,
        }),
      );
      return { items: page.Images ?? [], next: page.NextToken };
    }),
    pages(async (NextToken) => {
      const page = await ec2.send(
        new DescribeInstancesCommand({
          Filters: [...lineage, { Name: 'instance-state-name', Values: LIVE_STATES }],
          NextToken,
        }),
      );
      return { items: (page.Reservations ?? []).flatMap((r) => r.Instances ?? []), next: page.NextToken };
    }),
  ]);
  return {
    images: images.flatMap((i) => {
      const bakeId = fromTags(i.Tags)[TAG.bakeId];
      if (!i.ImageId || !bakeId) return [];
      const protection = i.DeregistrationProtection;
      return [
        {
          region,
          imageId: i.ImageId,
          bakeId,
          architecture: i.Architecture ?? 'unknown',
          ...(i.CreationDate ? { createdAt: i.CreationDate } : {}),
          state: i.State ?? 'unknown',
          snapshotIds: snapshotIdsOf(i),
          ...(protection && protection !== 'disabled' ? { protection } : {}),
        },
      ];
    }),
    liveBakes: [...new Set(liveBakes.flatMap((i) => fromTags(i.Tags)[TAG.bakeId] ?? []))],
  };
}
