import { CopyImageCommand } from '@aws-sdk/client-ec2';
import { clientToken } from '../../lib/aws/client-token.js';
import type { Ec2Send } from '../../lib/aws/ec2.js';
import type { BakeContext, ResolvedRecipe } from '../../lib/state.js';
import { lineageTags, TAG, TESTED } from '../../lib/tags.js';

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

/**
 * Starts the copy into one target region; WaitForCopy waits for it to become available. The copy
 * and its snapshots are tagged at creation, never afterwards: right after CopyImage, EC2 may not
 * know the new id yet (InvalidAMIID.NotFound), and an untagged copy is one cleanup cannot find.
 */
export async function copyImage({ target, context, image, recipe }: CopyImageInput, deps: CopyImageDeps) {
  const ec2 = deps.ec2(target.region);
  // A recipe with `test` reaches CopyImages only once every test passed (TestImage comes first):
  // the copies carry the source's tested tag, given at creation like the rest.
  const source = {
    [TAG.sourceRegion]: image.region,
    ...(context.tests ? { [TAG.tested]: TESTED } : {}),
  };
  // The same tags as the source image and its snapshots (CreateImage), plus the source region:
  // CopyImage applies one snapshot TagSpecification to every new snapshot of the copy.
  const tags = lineageTags(context, { Name: context.imageName, ...recipe.image.tags, ...source });
  const snapshotTags = lineageTags(context, {
    Name: context.imageName,
    ...recipe.image.snapshotTags,
    ...source,
  });
  const { ImageId } = await send(
    ec2,
    target.region,
    new CopyImageCommand({
      SourceImageId: image.imageId,
      SourceRegion: image.region,
      Name: context.imageName,
      Description: recipe.image.description ?? `${context.recipeName} baked by ami-bake ${context.bakeId}`,
      // Same token on a retried invocation: AWS returns the first copy instead of a second one.
      ClientToken: clientToken('copy', context.bakeId, target.region),
      Encrypted: target.kmsKeyId ? true : undefined,
      KmsKeyId: target.kmsKeyId,
      TagSpecifications: [
        { ResourceType: 'image', Tags: tags },
        { ResourceType: 'snapshot', Tags: snapshotTags },
      ],
    }),
  );
  if (!ImageId) throw new Error(`copy to ${target.region}: CopyImage returned no image id`);
  return { region: target.region, imageId: ImageId, at: deps.now().toISOString() };
}

/**
 * Every copy runs in the same Map, and the Map's failure is all that reaches Bake Failed: the
 * message names the region. The name stays, because Retry and Catch match on it.
 */
async function send(ec2: Ec2Send, region: string, command: CopyImageCommand) {
  try {
    return await ec2.send(command);
  } catch (error) {
    if (error instanceof Error) error.message = `copy to ${region}: ${error.message}`;
    throw error;
  }
}
