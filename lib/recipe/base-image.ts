import { DescribeImagesCommand, type Filter, type Image } from '@aws-sdk/client-ec2';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import type { Ec2Send } from '../aws/ec2.js';
import type { SsmSend } from '../aws/ssm.js';
import { BaseImageNotFoundError, RecipeInvalidError } from '../errors.js';
import type { BaseImage } from '../state.js';
import type { Recipe } from './schema.js';

export interface BaseDeps {
  ec2: Ec2Send;
  ssm: SsmSend;
  region: string;
}

/** The base image a selector points at now (the newest match for a filter). */
export async function resolveBase(base: Recipe['base'], deps: BaseDeps): Promise<BaseImage> {
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

async function readParameter(name: string, deps: Pick<BaseDeps, 'ssm' | 'region'>): Promise<string> {
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
  deps: Pick<BaseDeps, 'ec2' | 'region'>,
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
  // CreateImage images EBS-backed instances only (docs/recipes.md#not-supported).
  if (image.RootDeviceType === 'instance-store') {
    const message = `${image.ImageId} is instance-store-backed; ami-bake bakes from EBS-backed images only`;
    throw new RecipeInvalidError(`base: ${message}`, [{ path: 'base', message }]);
  }
  const architecture = image.Architecture === 'arm64' ? 'arm64' : 'x86_64';
  const productCodes = (image.ProductCodes ?? [])
    .filter((p) => p.ProductCodeType === 'marketplace' && p.ProductCodeId)
    .map((p) => p.ProductCodeId ?? '');
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
    ...(productCodes.length > 0 ? { productCodes } : {}),
  };
}
