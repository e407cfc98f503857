import { CreateImageCommand, DescribeImagesCommand } from '@aws-sdk/client-ec2';
import type { Ec2Send } from '../../lib/aws/clients.js';
import type { BakeContext, ResolvedRecipe } from '../../lib/state.js';
import { bakeFilter, lineageTags, TAG } from '../../lib/tags.js';

export interface CreateImageDeps {
  ec2: Ec2Send;
  now: () => Date;
}

export interface CreateImageInput {
  recipe: ResolvedRecipe;
  context: BakeContext;
  builder: { instanceId: string };
}

/**
 * Creates the image from the stopped builder, tagged at creation so cleanup can find it even if
 * this function dies before returning. Snapshots are tagged once the image is available
 * (FinalizeImage); until then cleanup reaches them through the image's block device mappings.
 */
export async function createImage({ recipe, context, builder }: CreateImageInput, deps: CreateImageDeps) {
  const tags = lineageTags(context, { Name: context.imageName });
  try {
    const { ImageId } = await deps.ec2.send(
      new CreateImageCommand({
        InstanceId: builder.instanceId,
        Name: context.imageName,
        Description: recipe.image.description ?? `${context.recipeName} baked by ami-bake ${context.bakeId}`,
        NoReboot: true, // Already stopped: a reboot would only start the instance again.
        TagSpecifications: [{ ResourceType: 'image', Tags: tags }],
      }),
    );
    if (!ImageId) throw new Error('CreateImage returned no image id');
    return { imageId: ImageId, region: context.buildRegion, at: deps.now().toISOString() };
  } catch (error) {
    // A retried invocation after a lost response: the image exists under our name and bake tag.
    if ((error as Error).name !== 'InvalidAMIName.Duplicate') throw error;
    const existing = await findOwnImage(deps.ec2, context);
    if (!existing) throw error;
    return { imageId: existing, region: context.buildRegion, at: deps.now().toISOString() };
  }
}

async function findOwnImage(ec2: Ec2Send, context: BakeContext): Promise<string | undefined> {
  const { Images = [] } = await ec2.send(
    new DescribeImagesCommand({
      Owners: ['self'],
      Filters: [bakeFilter(context.bakeId), { Name: 'name', Values: [context.imageName] }],
    }),
  );
  return Images.find((i) => i.Tags?.some((t) => t.Key === TAG.bakeId))?.ImageId;
}
