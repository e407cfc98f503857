import { type LaunchPermission, ModifyImageAttributeCommand } from '@aws-sdk/client-ec2';
import type { Ec2Send } from '../../lib/aws/ec2.js';
import type { Recipe } from '../../lib/recipe/schema.js';
import type { ResolvedRecipe } from '../../lib/state.js';

export interface FinalizeDeps {
  ec2: (region: string) => Ec2Send;
  now: () => Date;
}

export interface FinalizeInput {
  recipe: ResolvedRecipe;
  image: { imageId: string; region: string };
  /** WaitForImage's output: the source image was available, with these snapshots. */
  imageReady: { snapshotIds: string[] };
  /** WaitForCopy's outputs: each copy was available, with its snapshots. */
  copies?: { region: string; imageId: string; snapshotIds: string[] }[];
}

/**
 * Applies the recipe's launch permissions in every region, and nothing else. No DescribeImages:
 * the waits answered only for available images and carry their snapshot ids (from their own
 * DescribeImages; AWS's AMI State Change event has no snapshot ids). No CreateTags: CreateImage
 * and CopyImage gave every image and snapshot its tags at creation. An image that vanished since
 * makes ModifyImageAttribute fail, and the bake is cleaned up as before.
 */
export async function finalizeImage(input: FinalizeInput, deps: FinalizeDeps) {
  const all = [
    { region: input.image.region, imageId: input.image.imageId, snapshotIds: input.imageReady.snapshotIds },
    ...(input.copies ?? []),
  ];
  const permissions = launchPermissions(input.recipe.distribution.launchPermissions);
  const entries = await Promise.all(
    all.map(async ({ region, imageId, snapshotIds }) => {
      if (permissions.length > 0) {
        await deps.ec2(region).send(
          new ModifyImageAttributeCommand({
            ImageId: imageId,
            Attribute: 'launchPermission',
            LaunchPermission: { Add: permissions },
          }),
        );
      }
      return [region, { imageId, snapshotIds }] as const;
    }),
  );
  return { images: Object.fromEntries(entries), at: deps.now().toISOString() };
}

export function launchPermissions(p: Recipe['distribution']['launchPermissions']): LaunchPermission[] {
  return [
    ...p.accounts.map((UserId) => ({ UserId })),
    ...p.organizations.map((OrganizationArn) => ({ OrganizationArn })),
    ...p.organizationalUnits.map((OrganizationalUnitArn) => ({ OrganizationalUnitArn })),
    ...(p.public ? [{ Group: 'all' as const }] : []),
  ];
}
