import { type BlockDeviceMapping, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { clientToken } from '../../lib/aws/client-token.js';
import type { Ec2Send } from '../../lib/aws/ec2.js';
import { wrapUserData } from '../../lib/bootstrap/wrapper.js';
import type { Recipe } from '../../lib/recipe/schema.js';
import type { BakeContext, BaseImage, ResolvedRecipe } from '../../lib/state.js';
import { lineageTags, TAG } from '../../lib/tags.js';

export interface LaunchDeps {
  ec2: Ec2Send;
  instanceProfile: string;
  securityGroupId?: string;
  now: () => Date;
}

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
  const groups = builder.securityGroupIds ?? (deps.securityGroupId ? [deps.securityGroupId] : undefined);
  const profile = builder.instanceProfile ?? deps.instanceProfile;
  // ResolveRecipe chose the subnet and checked it can reach the EC2 API; an execution started
  // before it did so carries no decision, and gets the recipe's values as they were meant then.
  const network = context.network ?? {
    subnetId: builder.subnetId,
    publicIp: builder.associatePublicIp === true,
  };
  const { Instances = [] } = await deps.ec2.send(
    new RunInstancesCommand({
      ImageId: context.base.imageId,
      InstanceType: builder.instanceType as never,
      MinCount: 1,
      MaxCount: 1,
      // Same token on a retried invocation: AWS returns the first launch instead of a second builder.
      ClientToken: clientToken('launch', context.bakeId),
      UserData: Buffer.from(userData, 'utf8').toString('base64'),
      IamInstanceProfile: profile.startsWith('arn:') ? { Arn: profile } : { Name: profile },
      InstanceInitiatedShutdownBehavior: 'stop',
      MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 1 },
      NetworkInterfaces: [
        {
          DeviceIndex: 0,
          SubnetId: network.subnetId,
          Groups: groups,
          AssociatePublicIpAddress: network.publicIp,
          DeleteOnTermination: true,
        },
      ],
      BlockDeviceMappings: blockDeviceMappings(builder.volumes, context.base, context.buildKmsKeyId),
      TagSpecifications: [
        { ResourceType: 'instance', Tags: tags },
        { ResourceType: 'volume', Tags: tags },
      ],
    }),
  );
  const instanceId = Instances[0]?.InstanceId;
  if (!instanceId) throw new Error('RunInstances returned no instance');
  return { instanceId, region: context.buildRegion, at: deps.now().toISOString() };
}

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
