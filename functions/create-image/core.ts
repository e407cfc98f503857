import { CreateImageCommand, DescribeImagesCommand } from '@aws-sdk/client-ec2';
import type { Ec2Send } from '../../lib/aws/ec2.js';
import { ImageNotYetVisibleError } from '../../lib/errors.js';
import type { BakeContext, ResolvedRecipe } from '../../lib/state.js';
import { fromTags, lineageTags, TAG } from '../../lib/tags.js';

export interface CreateImageDeps {
  ec2: Ec2Send;
  now: () => Date;
  /** Waits between looks for an earlier attempt's image; tests pass a fake. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Waits before each further look for the image an earlier attempt created: 15 s in all, well
 * inside the function's 60 s timeout. EC2 usually shows a new image within seconds.
 */
const LOOK_AGAIN_MS = [1_000, 2_000, 4_000, 8_000];
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface CreateImageInput {
  recipe: ResolvedRecipe;
  context: BakeContext;
  builder: { instanceId: string };
}

/**
 * Creates the image from the stopped builder. The image and its snapshots get all their tags at
 * creation (lineage, Name and the recipe's), so cleanup can find both even if this function dies
 * before returning, a snapshot is never left untagged while the image is pending, and no CreateTags
 * call follows (issue 8: one call fewer per resource, and no window where EC2 does not know the id).
 */
export async function createImage({ recipe, context, builder }: CreateImageInput, deps: CreateImageDeps) {
  const tags = lineageTags(context, { Name: context.imageName, ...recipe.image.tags });
  const snapshotTags = lineageTags(context, { Name: context.imageName, ...recipe.image.snapshotTags });
  try {
    const { ImageId } = await deps.ec2.send(
      new CreateImageCommand({
        InstanceId: builder.instanceId,
        Name: context.imageName,
        Description: recipe.image.description ?? `${context.recipeName} baked by ami-bake ${context.bakeId}`,
        NoReboot: true, // Already stopped: a reboot would only start the instance again.
        TagSpecifications: [
          { ResourceType: 'image', Tags: tags },
          { ResourceType: 'snapshot', Tags: snapshotTags },
        ],
      }),
    );
    if (!ImageId) throw new Error('CreateImage returned no image id');
    return { imageId: ImageId, region: context.buildRegion, at: deps.now().toISOString() };
  } catch (error) {
    // A retried invocation after a lost response: the image exists under our name and bake tag.
    if ((error as Error).name !== 'InvalidAMIName.Duplicate') throw error;
    const imageId = await findOwnImage(deps, context, error);
    return { imageId, region: context.buildRegion, at: deps.now().toISOString() };
  }
}

/**
 * The image of our name that an earlier attempt created. Looked up by name (unique per account
 * and region) and judged by its bake-id tag, which it carries from creation: an image of that
 * name with another bake's tag (or none) is not ours, and the duplicate-name error stands. Right
 * after the first CreateImage, DescribeImages may not show the image yet: look again a few times,
 * then throw ImageNotYetVisibleError, which the state retries so a later attempt adopts it.
 */
async function findOwnImage(
  deps: CreateImageDeps,
  context: BakeContext,
  duplicate: unknown,
): Promise<string> {
  const sleep = deps.sleep ?? delay;
  for (const wait of [0, ...LOOK_AGAIN_MS]) {
    if (wait > 0) await sleep(wait);
    const { Images = [] } = await deps.ec2.send(
      new DescribeImagesCommand({
        Owners: ['self'],
        Filters: [{ Name: 'name', Values: [context.imageName] }],
      }),
    );
    const image = Images[0];
    if (!image) continue;
    if (image.ImageId && fromTags(image.Tags)[TAG.bakeId] === context.bakeId) return image.ImageId;
    throw duplicate;
  }
  throw new ImageNotYetVisibleError(
    `CreateImage says the name ${context.imageName} is taken, but no image of that name is visible yet; ` +
      'an earlier attempt most likely created it',
  );
}
