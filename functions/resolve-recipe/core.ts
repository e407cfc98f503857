import { DescribeInstanceTypesCommand, type InstanceTypeInfo } from '@aws-sdk/client-ec2';
import type { Ec2Send } from '../../lib/aws/ec2.js';
import type { KmsSend } from '../../lib/aws/kms.js';
import type { SsmSend } from '../../lib/aws/ssm.js';
import { RecipeInvalidError } from '../../lib/errors.js';
import { subnetEgress } from '../../lib/network/egress.js';
import { baseFor, childBakeId, instanceTypeFor } from '../../lib/recipe/architectures.js';
import { resolveBase } from '../../lib/recipe/base-image.js';
import { contentKey, recipeHash } from '../../lib/recipe/hash.js';
import { renderImageName, shortId } from '../../lib/recipe/image-name.js';
import { testTypesFor } from '../../lib/recipe/launch-test.js';
import { checkUserDataSize } from '../../lib/recipe/load.js';
import { marketplaceProblems } from '../../lib/recipe/marketplace.js';
import type { Architecture, Recipe } from '../../lib/recipe/schema.js';
import type { BakeContext, BakeInput, BaseImage } from '../../lib/state.js';
import { fittingTypes, sizedCandidates } from './candidates.js';
import { checkKeys, regionKey } from './keys.js';
import { checkLaunchTemplates, checkParameter } from './publishing.js';

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
  /**
   * EC2 and SSM in every target region, and this stack's name: distribution.launchTemplates and
   * distribution.ssmParameter are checked there.
   */
  publishing?: { ec2: (region: string) => Ec2Send; ssm: (region: string) => SsmSend; stack: string };
}

/**
 * Turns a recipe into everything later states need, checking what only AWS can answer. A recipe
 * with several architectures and no `architecture` in the input is a group's request: each
 * architecture is checked as its child will be (resolveGroup).
 */
export async function resolveRecipe(input: BakeInput, deps: ResolveDeps): Promise<BakeContext> {
  const { bakeId, recipe, group } = input;
  const listed = [...new Set(recipe.architectures ?? [])];
  if (!input.architecture && listed.length > 1) return resolveGroup(input, listed, deps);
  const startedAt = deps.now();
  const wanted = input.architecture ?? listed[0];
  const base = await resolveBase(baseFor(recipe.base, wanted), deps);
  const architecture = wanted ?? base.architecture;
  const { builder } = recipe;
  const typeName = instanceTypeFor(builder.instanceType, architecture);
  // builder.requirements: the fitting types, cheapest first; a default subnet is chosen in a zone
  // that offers the cheapest, then the list is narrowed to what that zone offers.
  const fitting = builder.requirements
    ? await fittingTypes(builder.requirements, builder.requirements.architecture ?? architecture, deps.ec2)
    : undefined;
  const [instanceType, network, keys, testTypes] = await Promise.all([
    typeName === undefined ? [] : checkInstanceType(typeName, base, deps),
    subnetEgress(deps.ec2, {
      subnetId: builder.subnetId,
      associatePublicIp: builder.associatePublicIp,
      instanceType: typeName ?? fitting?.ordered[0],
    }),
    checkKeys(recipe, deps.region, deps.kms),
    checkTestTypes(recipe, architecture, base, deps),
  ]);
  const problems = [
    ...architectureOf(recipe, architecture, base),
    ...instanceType,
    ...testTypes,
    ...checkPlatform(recipe, base),
    ...checkRootSize(recipe, base),
    ...marketplaceProblems(recipe, base),
    ...keys,
  ];
  // Fail before baking, not in DistributeImage after it (no call when the recipe names none).
  if (deps.publishing) {
    const { ec2, ssm, stack } = deps.publishing;
    const [templates, parameter] = await Promise.all([
      checkLaunchTemplates(recipe, deps.region, ec2, stack),
      checkParameter(recipe, architecture, deps.region, ssm),
    ]);
    problems.push(...templates, ...parameter);
  }
  const candidates =
    fitting && builder.requirements
      ? await sizedCandidates(fitting, builder.requirements, base, network.availabilityZone, deps.ec2)
      : { instanceTypes: typeName ? [typeName] : [], problems: [] };
  problems.push(...candidates.problems);
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
    // A group's images share the request's name, each with its architecture: names are unique per region.
    imageName: group
      ? `${renderImageName(recipe.image.name, { recipe: recipe.name, bakeId: group.bakeId, at: startedAt })}-${architecture}`
      : renderImageName(recipe.image.name, { recipe: recipe.name, bakeId, at: startedAt }),
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
    // LaunchBuilder tries these in order when EC2 lacks capacity for one (docs/recipes.md#capacity-fallback).
    instanceTypes: candidates.instanceTypes,
    budgets: {
      bootstrapSeconds: seconds(recipe.bootstrap.timeoutMinutes),
      imageSeconds: seconds(recipe.image.timeoutMinutes),
      copySeconds: seconds(recipe.distribution.copyTimeoutMinutes),
      ...(recipe.test ? { testSeconds: seconds(recipe.test.timeoutMinutes) } : {}),
    },
    // Present only with a `test` block: TestOrNot skips TestImage without it. No type listed: the
    // builder's (absent with builder.requirements, whose type LaunchBuilder picks).
    ...(recipe.test
      ? {
          tests: (testTypesFor(recipe.test.instanceTypes, architecture)?.types ?? [typeName]).map((t) =>
            t ? { instanceType: t } : {},
          ),
        }
      : {}),
    startedAt: startedAt.toISOString(),
    at: deps.now().toISOString(),
    architecture,
    ...(group ? { group } : {}),
  };
}

/**
 * The request of a group: every architecture is resolved as its child will resolve it, so a
 * problem with any of them fails the request before a builder starts, all problems at once. The
 * context is the first architecture's, under the request's bake id, with the children listed.
 */
async function resolveGroup(
  input: BakeInput,
  listed: Architecture[],
  deps: ResolveDeps,
): Promise<BakeContext> {
  const children = listed.map((architecture) => ({
    architecture,
    bakeId: childBakeId(input.bakeId, architecture),
  }));
  const resolved = await Promise.allSettled(
    children.map((child) => resolveRecipe({ ...input, ...child, group: { bakeId: input.bakeId } }, deps)),
  );
  const problems = resolved.flatMap((r, i) => {
    if (r.status === 'fulfilled') return [];
    if (!(r.reason instanceof RecipeInvalidError)) throw r.reason;
    const architecture = listed[i];
    return r.reason.problems.map((p) => ({ path: p.path, message: `${architecture}: ${p.message}` }));
  });
  if (problems.length > 0) {
    throw new RecipeInvalidError(problems.map((p) => `${p.path}: ${p.message}`).join('; '), problems);
  }
  const [first] = resolved as PromiseFulfilledResult<BakeContext>[];
  const { architecture: _, group: __, ...context } = (first as PromiseFulfilledResult<BakeContext>).value;
  const startedAt = new Date(context.startedAt);
  return {
    ...context,
    bakeId: input.bakeId,
    shortId: shortId(input.bakeId),
    imageName: renderImageName(input.recipe.image.name, {
      recipe: input.recipe.name,
      bakeId: input.bakeId,
      at: startedAt,
    }),
    architectures: children,
  };
}

/** A bake of one architecture needs a base image of that architecture. */
function architectureOf(recipe: Recipe, architecture: Architecture, base: BaseImage) {
  const problems = [];
  if (base.architecture !== architecture) {
    problems.push({
      path: 'base',
      message: `${base.imageId} is ${base.architecture}, but this bake is for ${architecture}`,
    });
  }
  if (typeof recipe.builder.instanceType === 'object' && !recipe.builder.instanceType[architecture]) {
    problems.push({
      path: `builder.instanceType.${architecture}`,
      message: `the base image is ${architecture}: name an instance type for it`,
    });
  }
  return problems;
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

/** Test instances run the new image, whose architecture is the base's: each listed type must run it. */
async function checkTestTypes(
  recipe: Recipe,
  architecture: Architecture,
  base: BaseImage,
  deps: ResolveDeps,
) {
  const listed = testTypesFor(recipe.test?.instanceTypes, architecture);
  const checked = await Promise.all(
    (listed?.types ?? []).map((type, i) => checkInstanceType(type, base, deps, `${listed?.path}.${i}`)),
  );
  return checked.flat();
}

async function checkInstanceType(
  type: string,
  base: BaseImage,
  deps: ResolveDeps,
  path = 'builder.instanceType',
) {
  try {
    const InstanceTypes = await describeInstanceType(type, deps);
    const archs = InstanceTypes[0]?.ProcessorInfo?.SupportedArchitectures ?? [];
    if (InstanceTypes.length === 0) return [{ path, message: `${type} is not offered in ${deps.region}` }];
    if (!archs.includes(base.architecture)) {
      return [
        {
          path,
          message: `${type} runs ${archs.join('/') || 'no known architecture'}, but the base image ${base.imageId} is ${base.architecture}`,
        },
      ];
    }
    return [];
  } catch (error) {
    if ((error as Error).name.startsWith('InvalidInstanceType')) {
      return [{ path, message: `${type} is not an instance type in ${deps.region}` }];
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
