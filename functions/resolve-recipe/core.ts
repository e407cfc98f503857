import { DescribeInstanceTypesCommand, type InstanceTypeInfo } from '@aws-sdk/client-ec2';
import type { Ec2Send } from '../../lib/aws/ec2.js';
import type { KmsSend } from '../../lib/aws/kms.js';
import type { SsmSend } from '../../lib/aws/ssm.js';
import { RecipeInvalidError } from '../../lib/errors.js';
import { subnetEgress } from '../../lib/network/egress.js';
import { resolveBase } from '../../lib/recipe/base-image.js';
import { contentKey, recipeHash } from '../../lib/recipe/hash.js';
import { renderImageName, shortId } from '../../lib/recipe/image-name.js';
import { checkUserDataSize } from '../../lib/recipe/load.js';
import type { Recipe } from '../../lib/recipe/schema.js';
import type { BakeContext, BakeInput, BaseImage } from '../../lib/state.js';
import { checkKeys, regionKey } from './keys.js';

export interface ResolveDeps {
  ec2: Ec2Send;
  ssm: SsmSend;
  /** KMS in any region: keys are checked where they must exist. */
  kms: (region: string) => KmsSend;
  region: string;
  now: () => Date;
  /**
   * Instance types this container has described, by region and type (the handler keeps one for
   * the container's life): what a type is does not change, so a warm container asks EC2 once.
   */
  instanceTypes?: Map<string, Promise<InstanceTypeInfo[]>>;
}

/** Turns a recipe into everything later states need, checking what only AWS can answer. */
export async function resolveRecipe({ bakeId, recipe }: BakeInput, deps: ResolveDeps): Promise<BakeContext> {
  const startedAt = deps.now();
  const base = await resolveBase(recipe.base, deps);
  const { builder } = recipe;
  const [instanceType, network, keys] = await Promise.all([
    checkInstanceType(builder.instanceType, base, deps),
    subnetEgress(deps.ec2, {
      subnetId: builder.subnetId,
      associatePublicIp: builder.associatePublicIp,
      instanceType: builder.instanceType,
    }),
    checkKeys(recipe, deps.region, deps.kms),
  ]);
  const problems = [...instanceType, ...checkPlatform(recipe, base), ...checkRootSize(recipe, base), ...keys];
  // Without egress the wrapper cannot report: the bake would only fail when its budget ran out.
  if (!network.egress) {
    problems.push({ path: network.field ?? 'builder.subnetId', message: network.reason ?? 'no egress' });
  }
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
    buildKmsKeyId: regionKey(recipe, deps.region),
    network: {
      subnetId: network.subnetId,
      publicIp: network.publicIp,
      ...(network.via ? { via: network.via } : {}),
      ...(network.reason ? { note: network.reason } : {}),
    },
    budgets: {
      bootstrapSeconds: seconds(recipe.bootstrap.timeoutMinutes),
      imageSeconds: seconds(recipe.image.timeoutMinutes),
      copySeconds: seconds(recipe.distribution.copyTimeoutMinutes),
    },
    startedAt: startedAt.toISOString(),
    at: deps.now().toISOString(),
  };
}

/** Only answers that name the type are kept: a failure or "not offered" is asked again next time. */
function describeInstanceType(type: string, deps: ResolveDeps): Promise<InstanceTypeInfo[]> {
  const key = `${deps.region} ${type}`;
  const cached = deps.instanceTypes?.get(key);
  if (cached) return cached;
  const described = deps.ec2
    .send(new DescribeInstanceTypesCommand({ InstanceTypes: [type as never] }))
    .then(({ InstanceTypes = [] }) => {
      if (InstanceTypes.length === 0) deps.instanceTypes?.delete(key);
      return InstanceTypes;
    });
  deps.instanceTypes?.set(key, described);
  described.catch(() => deps.instanceTypes?.delete(key));
  return described;
}

async function checkInstanceType(type: string, base: BaseImage, deps: ResolveDeps) {
  try {
    const InstanceTypes = await describeInstanceType(type, deps);
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
