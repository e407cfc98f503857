import {
  DescribeImagesCommand,
  DescribeInstanceTypeOfferingsCommand,
  DescribeInstanceTypesCommand,
  DescribeRouteTablesCommand,
  DescribeSubnetsCommand,
  DescribeVpcEndpointsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { resolveRecipe } from '../../../functions/resolve-recipe/core.js';
import { RecipeInvalidError } from '../../../lib/errors.js';
import type { RecipeInput } from '../../../lib/recipe/schema.js';
import { BAKE_ID, recipe, resolveDeps } from './fixtures.js';

const ec2Mock = mockClient(EC2Client);
const ssmMock = mockClient(SSMClient);
const deps = resolveDeps();
const PARAMETER = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-';
const AMI = { x86_64: 'ami-0aaaaaaaaaaaaaaa1', arm64: 'ami-0bbbbbbbbbbbbbbb2' } as const;

/** A recipe baking both architectures from AWS's public parameters. */
const twoArchitectures = (fields: Partial<RecipeInput> = {}) =>
  recipe({
    architectures: ['x86_64', 'arm64'],
    base: { ssmParameter: `${PARAMETER}{architecture}` },
    builder: { instanceType: { x86_64: 't3.micro', arm64: 't4g.micro' } },
    ...fields,
  });

beforeEach(() => {
  ec2Mock.reset();
  ssmMock.reset();
  ec2Mock.on(DescribeSubnetsCommand).resolves({
    Subnets: [{ SubnetId: 'subnet-0defa0170000000a', VpcId: 'vpc-0abc', AvailabilityZone: 'us-east-1a' }],
  });
  ec2Mock.on(DescribeInstanceTypeOfferingsCommand).resolves({ InstanceTypeOfferings: [] });
  ec2Mock.on(DescribeRouteTablesCommand).resolves({
    RouteTables: [
      { Routes: [{ DestinationCidrBlock: '0.0.0.0/0', GatewayId: 'igw-0abc', State: 'active' }] },
    ],
  });
  ec2Mock.on(DescribeVpcEndpointsCommand).resolves({ VpcEndpoints: [] });
  for (const [type, arch] of [
    ['t3.micro', 'x86_64'],
    ['t4g.micro', 'arm64'],
  ] as const) {
    ec2Mock.on(DescribeInstanceTypesCommand, { InstanceTypes: [type] }).resolves({
      InstanceTypes: [{ InstanceType: type, ProcessorInfo: { SupportedArchitectures: [arch] } }],
    });
  }
  for (const arch of ['x86_64', 'arm64'] as const) {
    ssmMock
      .on(GetParameterCommand, { Name: `${PARAMETER}${arch}` })
      .resolves({ Parameter: { Value: AMI[arch] } });
    ec2Mock.on(DescribeImagesCommand, { Filters: [{ Name: 'image-id', Values: [AMI[arch]] }] }).resolves({
      Images: [
        {
          ImageId: AMI[arch],
          Name: `al2023-ami-2026.11.20-kernel-6.1-${arch}`,
          OwnerId: '137112412989',
          Architecture: arch,
          CreationDate: '2026-11-20T10:00:00.000Z',
          State: 'available',
          RootDeviceName: '/dev/xvda',
          BlockDeviceMappings: [
            { DeviceName: '/dev/xvda', Ebs: { SnapshotId: 'snap-0aaaaaaaaaaaaaaaa', VolumeSize: 8 } },
          ],
        },
      ],
    });
  }
});

describe('resolveRecipe: several architectures', () => {
  it('lists a child per architecture for the request, each with a bake id derived from the request', async () => {
    // Act
    const context = await resolveRecipe({ bakeId: BAKE_ID, recipe: twoArchitectures() }, deps);

    // Assess
    expect(context.architectures).toEqual([
      { architecture: 'x86_64', bakeId: `${BAKE_ID}-x86_64` },
      { architecture: 'arm64', bakeId: `${BAKE_ID}-arm64` },
    ]);
    expect(context.bakeId).toBe(BAKE_ID);
    expect(context.architecture).toBeUndefined();
    expect(context.group).toBeUndefined();
  });

  it("resolves a child's own base image and names its image after the request and its architecture", async () => {
    // Act
    const context = await resolveRecipe(
      {
        bakeId: `${BAKE_ID}-arm64`,
        recipe: twoArchitectures(),
        architecture: 'arm64',
        group: { bakeId: BAKE_ID },
      },
      deps,
    );

    // Assess
    expect(context.base).toMatchObject({ imageId: AMI.arm64, architecture: 'arm64' });
    expect(context.architecture).toBe('arm64');
    expect(context.group).toEqual({ bakeId: BAKE_ID });
    expect(context.imageName).toMatch(/-0001abcd-arm64$/);
  });

  it('refuses the request before any child starts when one architecture cannot be baked, naming it', async () => {
    // Prepare: a type that runs x86_64 only, named for arm64.
    const wrong = twoArchitectures({ builder: { instanceType: { x86_64: 't3.micro', arm64: 't3.micro' } } });

    // Act
    const error = await resolveRecipe({ bakeId: BAKE_ID, recipe: wrong }, deps).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(RecipeInvalidError);
    expect((error as RecipeInvalidError).problems).toContainEqual({
      path: 'builder.instanceType',
      message: expect.stringMatching(
        /^arm64: t3\.micro runs x86_64, but the base image ami-0bbbbbbbbbbbbbbb2 is arm64/,
      ),
    });
  });
});
