import { type BlockDeviceMapping, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { clientToken } from '../../lib/aws/client-token.js';
import type { Ec2Send } from '../../lib/aws/ec2.js';
import { wrapUserData } from '../../lib/bootstrap/wrapper.js';
import { BuilderCapacityError } from '../../lib/errors.js';
import { reportingInstance } from '../../lib/launch/reporting-instance.js';
import type { Recipe } from '../../lib/recipe/schema.js';
import type { BakeContext, BaseImage, LaunchAttempt, ResolvedRecipe } from '../../lib/state.js';
import { lineageTags, TAG } from '../../lib/tags.js';

export interface LaunchDeps {
  ec2: Ec2Send;
  instanceProfile: string;
  securityGroupId?: string;
  now: () => Date;
  /** The invocation's time left (Lambda context); the walk stops short of the function's timeout. */
  remainingMs?: () => number;
}

/**
 * Time one more candidate may need: RunInstances with the SDK's own retries of a 5xx capacity
 * answer (5 attempts with backoff). Less than this left, LaunchBuilder stops and the state machine
 * retries the walk (BuilderCapacityError) instead of the function timing out mid-launch.
 */
export const LAUNCH_RESERVE_MS = 15_000;

export interface LaunchInput {
  recipe: ResolvedRecipe;
  context: BakeContext;
}

/**
 * Launches the builder with the wrapped user data. Secure defaults: IMDSv2 only, no inbound traffic
 * (a public IP only where it is the way out), encrypted volumes deleted with the instance, and
 * shutdown means stop (the wrapper powers off).
 */
export async function launchBuilder({ recipe, context }: LaunchInput, deps: LaunchDeps) {
  const { builder } = recipe;
  const tags = lineageTags(context, {
    Name: `ami-bake builder ${context.recipeName} ${context.shortId}`,
    ...builder.tags,
    [TAG.role]: 'builder',
  });
  const userData = wrapUserData({
    platform: recipe.bootstrap.platform,
    script: recipe.bootstrap.script,
    // Names only: the builder fetches the values with its role.
    secrets: recipe.bootstrap.secrets,
    bakeId: context.bakeId,
  });
  const common = reportingInstance(builder, context, userData, tags, deps);
  const spot = builder.spot;
  const launch = (instanceType: string, market: Market, first: boolean) =>
    deps.ec2.send(
      new RunInstancesCommand({
        ImageId: context.base.imageId,
        InstanceType: instanceType as never,
        MinCount: 1,
        MaxCount: 1,
        // Same token on a retried invocation: AWS returns the first launch instead of a second builder.
        // One token per candidate and market (EC2 refuses a token reused with other parameters); the
        // first on-demand launch keeps the single-type token, so a retry of an execution started
        // before candidates existed matches.
        ClientToken:
          first && market === 'on-demand'
            ? clientToken('launch', context.bakeId)
            : clientToken('launch', context.bakeId, instanceType, market),
        ...common,
        // The builder must stop to be imaged, and EC2 stops a Spot instance only when its request is
        // persistent and interruption means stop. A persistent request relaunches an instance
        // whose instance is terminated, so every path that terminates a builder cancels the
        // bake's requests first, found by the bake's tag (lib/cleanup/builders.ts).
        ...(market === 'spot'
          ? {
              InstanceMarketOptions: {
                MarketType: 'spot' as const,
                SpotOptions: {
                  SpotInstanceType: 'persistent' as const,
                  InstanceInterruptionBehavior: 'stop' as const,
                  ...(spot?.maxPrice ? { MaxPrice: spot.maxPrice } : {}),
                },
              },
            }
          : {}),
        BlockDeviceMappings: blockDeviceMappings(builder.volumes, context.base, context.buildKmsKeyId),
        TagSpecifications: [
          ...(common.TagSpecifications ?? []),
          ...(market === 'spot' ? [{ ResourceType: 'spot-instances-request' as const, Tags: tags }] : []),
        ],
      }),
    );
  const candidates = context.instanceTypes?.length ? context.instanceTypes : [String(builder.instanceType)];
  // Spot first for each type, then on-demand unless the recipe forbids it.
  const markets: Market[] = spot
    ? spot.fallbackToOnDemand
      ? ['spot', 'on-demand']
      : ['spot']
    : ['on-demand'];
  const launched = await firstLaunched(candidates, markets, launch, deps);
  return { ...launched, region: context.buildRegion, at: deps.now().toISOString() };
}

type Market = LaunchAttempt['market'];

/**
 * Launches the candidates in order until one starts (ResolveRecipe ordered them cheapest first),
 * each in the given markets in order, recording each capacity refusal; fails with all of them when
 * none starts or time runs short.
 */
async function firstLaunched(
  candidates: string[],
  markets: Market[],
  launch: (
    instanceType: string,
    market: Market,
    first: boolean,
  ) => Promise<{ Instances?: { InstanceId?: string }[] }>,
  deps: Pick<LaunchDeps, 'remainingMs'>,
) {
  const attempts: LaunchAttempt[] = [];
  // Spot tries are named as such; on-demand ones by type only, as before Spot existed.
  const named = (t: { instanceType: string; market: Market }) =>
    t.market === 'spot' ? `${t.instanceType} on Spot` : t.instanceType;
  const refused = () => attempts.map((a) => `${named(a)} (${a.error})`).join(', ');
  const tries = candidates.flatMap((instanceType, i) =>
    markets.map((market) => ({ instanceType, market, i })),
  );
  for (const [n, { instanceType, market, i }] of tries.entries()) {
    if (n > 0 && deps.remainingMs && deps.remainingMs() < LAUNCH_RESERVE_MS) {
      const left = tries.slice(n).map(named);
      throw new BuilderCapacityError(
        `EC2 refused ${refused()}, and the launch ran out of time before ${left.join(', ')}`,
        attempts,
      );
    }
    try {
      const { Instances = [] } = await launch(instanceType, market, i === 0);
      const instanceId = Instances[0]?.InstanceId;
      if (!instanceId) throw new Error('RunInstances returned no instance');
      return { instanceId, instanceType, market, ...(attempts.length > 0 ? { attempts } : {}) };
    } catch (error) {
      const { name, message } = error as Error;
      const refusal = CAPACITY_ERRORS.has(name) || (market === 'spot' && SPOT_ERRORS.has(name));
      if (!refusal) throw error;
      attempts.push({ instanceType, market, error: name, message });
    }
  }
  throw new BuilderCapacityError(`EC2 refused every candidate type: ${refused()}`, attempts);
}

/**
 * RunInstances refusals another candidate type may not meet (EC2 API error codes): no capacity for
 * the type in the zone now, the type not supported there, or a per-type or per-family quota.
 * Anything else (a bad parameter, a permission, a Marketplace opt-in) would fail for every type.
 */
export const CAPACITY_ERRORS: ReadonlySet<string> = new Set([
  'InsufficientInstanceCapacity',
  'Unsupported',
  'InstanceLimitExceeded',
  'VcpuLimitExceeded',
]);

/**
 * Spot refusals that on-demand (or another type) may not meet (EC2 API error codes, "Error codes
 * for the Amazon EC2 API"): no Spot capacity, a maximum price below the Spot price, the account's
 * Spot quotas.
 */
export const SPOT_ERRORS: ReadonlySet<string> = new Set([
  // A fresh account whose Spot service-linked role could not be created (the role may create it,
  // scripts/function-roles.cjs; an SCP may still forbid it): on-demand still works.
  'AuthFailure.ServiceLinkedRoleCreationNotPermitted',
  'InsufficientCapacity',
  'UnfulfillableCapacity',
  'SpotMaxPriceTooLow',
  'MaxSpotInstanceCountExceeded',
  'MaxSpotFleetRequestCountExceeded',
]);

export function blockDeviceMappings(
  volumes: Recipe['builder']['volumes'],
  base: Pick<BaseImage, 'rootDeviceName' | 'rootVolumeSizeGiB'>,
  /** The build region's key (distribution.kmsKeyIds): an image shared with other accounts needs one. */
  defaultKmsKeyId?: string,
): BlockDeviceMapping[] {
  // The root size is always explicit: the base's size unless the recipe asks for more.
  const root = {
    type: 'gp3' as const,
    encrypted: true,
    ...volumes.root,
    sizeGiB: volumes.root?.sizeGiB ?? base.rootVolumeSizeGiB,
  };
  const ebs = (v: typeof root & { snapshotId?: string }) => ({
    VolumeSize: v.sizeGiB,
    VolumeType: v.type,
    Iops: v.iops,
    Throughput: v.throughput,
    Encrypted: v.encrypted,
    KmsKeyId: v.encrypted ? (v.kmsKeyId ?? defaultKmsKeyId) : v.kmsKeyId,
    SnapshotId: v.snapshotId,
    DeleteOnTermination: true,
  });
  return [
    { DeviceName: base.rootDeviceName, Ebs: ebs(root) },
    ...volumes.ebs.map((v) => ({ DeviceName: v.deviceName, Ebs: ebs(v) })),
    ...volumes.instanceStore.map((v) => ({ DeviceName: v.deviceName, VirtualName: v.virtualName })),
  ];
}
