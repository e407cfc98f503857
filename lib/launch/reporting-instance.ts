import type { RunInstancesCommandInput, Tag } from '@aws-sdk/client-ec2';
import type { Recipe } from '../recipe/schema.js';
import type { BakeContext } from '../state.js';

export interface ReportingInstanceDefaults {
  /** The stack's builder instance profile (name or ARN). */
  instanceProfile: string;
  /** The stack's security group, which admits no inbound traffic. */
  securityGroupId?: string;
}

/**
 * What every instance a bake launches to run a script has in common, the builder and the test
 * instances alike: the wrapped user data, the recipe's (or the stack's) instance profile and
 * security groups, the network ResolveRecipe chose, IMDSv2 only, shutdown meaning stop (the
 * wrapper powers off after tagging itself with its result), its network interface deleted with
 * it, and the bake's tags on the instance and its volumes at creation.
 */
export function reportingInstance(
  builder: Recipe['builder'],
  context: Pick<BakeContext, 'network'>,
  userData: string,
  tags: Tag[],
  defaults: ReportingInstanceDefaults,
): Pick<
  RunInstancesCommandInput,
  | 'UserData'
  | 'IamInstanceProfile'
  | 'InstanceInitiatedShutdownBehavior'
  | 'MetadataOptions'
  | 'NetworkInterfaces'
  | 'TagSpecifications'
> {
  const groups =
    builder.securityGroupIds ?? (defaults.securityGroupId ? [defaults.securityGroupId] : undefined);
  const profile = builder.instanceProfile ?? defaults.instanceProfile;
  // ResolveRecipe chose the subnet and checked it can reach the EC2 API; an execution started
  // before it did so carries no decision, and gets the recipe's values as they were meant then.
  const network = context.network ?? {
    subnetId: builder.subnetId,
    publicIp: builder.associatePublicIp === true,
  };
  return {
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
    TagSpecifications: [
      { ResourceType: 'instance', Tags: tags },
      { ResourceType: 'volume', Tags: tags },
    ],
  };
}
