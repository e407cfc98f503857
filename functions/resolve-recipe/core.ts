import {
  DescribeImagesCommand,
  DescribeInstanceTypesCommand,
  type Filter,
  type Image,
} from '@aws-sdk/client-ec2';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import type { Ec2Send, SsmSend } from '../../lib/aws/clients.js';
import { BaseImageNotFoundError, RecipeInvalidError } from '../../lib/errors.js';
import { contentKey, recipeHash } from '../../lib/recipe/hash.js';
import { renderImageName, shortId } from '../../lib/recipe/image-name.js';
import { checkUserDataSize } from '../../lib/recipe/load.js';
import type { Recipe } from '../../lib/recipe/schema.js';
import type { BakeContext, BakeInput, BaseImage } from '../../lib/state.js';

export interface ResolveDeps {
  ec2: Ec2Send;
  ssm: SsmSend;
  region: string;
  now: () => Date;
}

/** Turns a recipe into everything later states need, checking what only AWS can answer. */
export async function resolveRecipe({ bakeId, recipe }: BakeInput, deps: ResolveDeps): Promise<BakeContext> {
  const startedAt = deps.now();
  const base = await resolveBase(recipe.base, deps);
  const problems = [
    ...(await checkInstanceType(recipe.builder.instanceType, base, deps)),
    ...checkPlatform(recipe, base),
    ...checkRootSize(recipe, base),
  ];
  const size = checkUserDataSize(recipe);
  if (size) problems.push(size);
  if (problems.length > 0) {
    throw new RecipeInvalidError(problems.map((p) => `${p.path}: ${p.message}`).join('; '), problems);
  }
  const seconds = (minutes: number) => Math.max(1, Math.ceil(minutes * 60));
  return {
    bakeId,
    shortId: shortId(bakeId),
    recipeName: recipe.name,
    recipeHash: recipeHash(recipe),
    contentKey: contentKey(recipe, base.imageId),
    buildRegion: deps.region,
    base,
    imageName: renderImageName(recipe.image.name, { recipe: recipe.name, bakeId, at: startedAt }),
    copyTargets: recipe.distribution.regions
      .filter((r) => r !== deps.region)
      .map((region) => ({ region, kmsKeyId: recipe.distribution.kmsKeyIds[region] })),
    budgets: {
      bootstrapSeconds: seconds(recipe.bootstrap.timeoutMinutes),
      imageSeconds: seconds(recipe.image.timeoutMinutes),
      copySeconds: seconds(recipe.distribution.copyTimeoutMinutes),
    },
    startedAt: startedAt.toISOString(),
    at: deps.now().toISOString(),
  };
}

/** The base image a selector points at now (the newest match for a filter). */
export async function resolveBase(
  base: Recipe['base'],
  deps: Pick<ResolveDeps, 'ec2' | 'ssm' | 'region'>,
): Promise<BaseImage> {
  if (base.imageId) return describeOne(base.imageId, `base.imageId ${base.imageId}`, deps);
  if (base.ssmParameter) {
    const imageId = await readParameter(base.ssmParameter, deps);
    return describeOne(imageId, `base.ssmParameter ${base.ssmParameter} (${imageId})`, deps);
  }
  const filter = base.filter;
  if (!filter) throw new RecipeInvalidError('base: no selector');
  const filters: Filter[] = [
    { Name: 'name', Values: [filter.name] },
    { Name: 'state', Values: ['available'] },
  ];
  if (filter.architecture) filters.push({ Name: 'architecture', Values: [filter.architecture] });
  if (filter.productCode) filters.push({ Name: 'product-code', Values: [filter.productCode] });
  const { Images = [] } = await deps.ec2.send(
    new DescribeImagesCommand({ Owners: filter.owners, Filters: filters }),
  );
  const newest = Images.filter((i) => i.ImageId && i.CreationDate).sort((a, b) =>
    (b.CreationDate ?? '').localeCompare(a.CreationDate ?? ''),
  )[0];
  if (!newest) {
    throw new BaseImageNotFoundError(
      `base.filter: no available image named ${JSON.stringify(filter.name)} owned by ${filter.owners.join(', ')}` +
        `${filter.architecture ? ` for ${filter.architecture}` : ''} in ${deps.region}`,
    );
  }
  return toBase(newest);
}

async function readParameter(name: string, deps: Pick<ResolveDeps, 'ssm' | 'region'>): Promise<string> {
  try {
    const { Parameter } = await deps.ssm.send(new GetParameterCommand({ Name: name }));
    const value = Parameter?.Value ?? '';
    if (!/^ami-[0-9a-f]+$/.test(value)) {
      throw new BaseImageNotFoundError(
        `base.ssmParameter ${name} holds ${JSON.stringify(value)}, not an image id`,
      );
    }
    return value;
  } catch (error) {
    if ((error as Error).name === 'ParameterNotFound') {
      throw new BaseImageNotFoundError(
        `base.ssmParameter: parameter ${name} does not exist in ${deps.region}`,
      );
    }
    throw error;
  }
}

async function describeOne(
  imageId: string,
  what: string,
  deps: Pick<ResolveDeps, 'ec2' | 'region'>,
): Promise<BaseImage> {
  // Filters, not ImageIds: a missing id then yields an empty list instead of an error code.
  const { Images = [] } = await deps.ec2.send(
    new DescribeImagesCommand({
      Filters: [{ Name: 'image-id', Values: [imageId] }],
      IncludeDeprecated: true,
    }),
  );
  const image = Images[0];
  if (!image)
    throw new BaseImageNotFoundError(
      `${what}: no such image in ${deps.region}, or not visible to this account`,
    );
  if (image.State !== 'available')
    throw new BaseImageNotFoundError(`${what}: image is ${image.State}, not available`);
  return toBase(image);
}

function toBase(image: Image): BaseImage {
  const architecture = image.Architecture === 'arm64' ? 'arm64' : 'x86_64';
  return {
    imageId: image.ImageId ?? '',
    name: image.Name ?? '',
    ownerId: image.OwnerId ?? '',
    architecture,
    creationDate: image.CreationDate ?? '',
    rootDeviceName: image.RootDeviceName ?? '/dev/xvda',
    rootVolumeSizeGiB:
      image.BlockDeviceMappings?.find((m) => m.DeviceName === image.RootDeviceName)?.Ebs?.VolumeSize ?? 8,
    platform: image.Platform?.toLowerCase() === 'windows' ? 'windows' : 'linux',
  };
}

async function checkInstanceType(type: string, base: BaseImage, deps: ResolveDeps) {
  try {
    const { InstanceTypes = [] } = await deps.ec2.send(
      new DescribeInstanceTypesCommand({ InstanceTypes: [type as never] }),
    );
    const archs = InstanceTypes[0]?.ProcessorInfo?.SupportedArchitectures ?? [];
    if (InstanceTypes.length === 0)
      return [{ path: 'builder.instanceType', message: `${type} is not offered in ${deps.region}` }];
    if (!archs.includes(base.architecture)) {
      return [
        {
          path: 'builder.instanceType',
          message: `${type} runs ${archs.join('/') || 'no known architecture'}, but the base image ${base.imageId} is ${base.architecture}`,
        },
      ];
    }
    return [];
  } catch (error) {
    if ((error as Error).name.startsWith('InvalidInstanceType')) {
      return [{ path: 'builder.instanceType', message: `${type} is not an instance type in ${deps.region}` }];
    }
    throw error;
  }
}

function checkPlatform(recipe: Recipe, base: BaseImage) {
  if (recipe.bootstrap.platform === base.platform) return [];
  return [
    {
      path: 'bootstrap.platform',
      message: `is ${recipe.bootstrap.platform}, but the base image ${base.imageId} is a ${base.platform} image`,
    },
  ];
}

function checkRootSize(recipe: Recipe, base: BaseImage) {
  const size = recipe.builder.volumes.root?.sizeGiB;
  if (size === undefined || size >= base.rootVolumeSizeGiB) return [];
  return [
    {
      path: 'builder.volumes.root.sizeGiB',
      message: `is ${size} GiB, smaller than the base image's root snapshot (${base.rootVolumeSizeGiB} GiB)`,
    },
  ];
}
