import {
  CreateTagsCommand,
  DescribeImagesCommand,
  type LaunchPermission,
  ModifyImageAttributeCommand,
} from '@aws-sdk/client-ec2';
import type { Ec2Send } from '../../lib/aws/clients.js';
import { ImageFailedError } from '../../lib/errors.js';
import type { Recipe } from '../../lib/recipe/schema.js';
import type { BakeContext, ResolvedRecipe } from '../../lib/state.js';
import { toTags } from '../../lib/tags.js';

export interface FinalizeDeps {
  ec2: (region: string) => Ec2Send;
  now: () => Date;
}

export interface FinalizeInput {
  recipe: ResolvedRecipe;
  context: BakeContext;
  image: { imageId: string; region: string };
  copies?: { region: string; imageId: string }[];
}

/** Applies the recipe's image and snapshot tags and its launch permissions in every region. */
export async function finalizeImage(input: FinalizeInput, deps: FinalizeDeps) {
  const { recipe, context } = input;
  const all = [{ region: input.image.region, imageId: input.image.imageId }, ...(input.copies ?? [])];
  const permissions = launchPermissions(recipe.distribution.launchPermissions);
  const entries = await Promise.all(
    all.map(async ({ region, imageId }) => {
      const ec2 = deps.ec2(region);
      const { Images = [] } = await ec2.send(
        new DescribeImagesCommand({ Filters: [{ Name: 'image-id', Values: [imageId] }] }),
      );
      const image = Images[0];
      if (image?.State !== 'available')
        throw new ImageFailedError(`image ${imageId} in ${region} is ${image?.State ?? 'gone'}`);
      const snapshotIds = (image.BlockDeviceMappings ?? []).flatMap((m) =>
        m.Ebs?.SnapshotId ? [m.Ebs.SnapshotId] : [],
      );
      // Only the recipe's tags: the lineage (ami-bake:*) was set at creation, and IAM refuses
      // those keys on an existing resource (docs/security.md, "Permission boundary").
      await ec2.send(
        new CreateTagsCommand({
          Resources: [imageId],
          Tags: toTags({ Name: context.imageName, ...recipe.image.tags }),
        }),
      );
      if (snapshotIds.length > 0) {
        const snapshotTags = { Name: context.imageName, ...recipe.image.snapshotTags };
        await ec2.send(new CreateTagsCommand({ Resources: snapshotIds, Tags: toTags(snapshotTags) }));
      }
      if (permissions.length > 0) {
        await ec2.send(
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
