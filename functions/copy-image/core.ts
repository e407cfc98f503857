import { CopyImageCommand, CreateTagsCommand } from '@aws-sdk/client-ec2';
import { clientToken } from '../../lib/aws/client-token.js';
import type { Ec2Send } from '../../lib/aws/clients.js';
import type { BakeContext, ResolvedRecipe } from '../../lib/state.js';
import { lineageTags, TAG } from '../../lib/tags.js';

export interface CopyImageDeps {
  ec2: (region: string) => Ec2Send;
  now: () => Date;
}

export interface CopyImageInput {
  target: { region: string; kmsKeyId?: string };
  context: BakeContext;
  image: { imageId: string; region: string };
  recipe: ResolvedRecipe;
}

/** Starts the copy into one target region; WaitForCopy waits for it to become available. */
export async function copyImage({ target, context, image, recipe }: CopyImageInput, deps: CopyImageDeps) {
  const ec2 = deps.ec2(target.region);
  const tags = lineageTags(context, { Name: context.imageName, [TAG.sourceRegion]: image.region });
  const { ImageId } = await ec2.send(
    new CopyImageCommand({
      SourceImageId: image.imageId,
      SourceRegion: image.region,
      Name: context.imageName,
      Description: recipe.image.description ?? `${context.recipeName} baked by ami-bake ${context.bakeId}`,
      // Same token on a retried invocation: AWS returns the first copy instead of a second one.
      ClientToken: clientToken('copy', context.bakeId, target.region),
      Encrypted: target.kmsKeyId ? true : undefined,
      KmsKeyId: target.kmsKeyId,
      TagSpecifications: [{ ResourceType: 'image', Tags: tags }],
    }),
  );
  if (!ImageId) throw new Error(`CopyImage to ${target.region} returned no image id`);
  // Tag again: some EC2 endpoints (and emulators) ignore TagSpecifications on CopyImage.
  await ec2.send(new CreateTagsCommand({ Resources: [ImageId], Tags: tags }));
  return { region: target.region, imageId: ImageId, at: deps.now().toISOString() };
}
