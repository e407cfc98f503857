import {
  DescribeImagesCommand,
  DescribeInstanceTypeOfferingsCommand,
  DescribeInstanceTypesCommand,
  DescribeRouteTablesCommand,
  DescribeSubnetsCommand,
  DescribeVpcEndpointsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { resolveRecipe } from '../../../functions/resolve-recipe/core.js';
import { RecipeInvalidError } from '../../../lib/errors.js';
import { BAKE_ID, recipe, resolveDeps } from './fixtures.js';

/** ResolveRecipe with a recipe's `test` block: what TestOrNot and TestImage read from the context. */

const ec2Mock = mockClient(EC2Client);
const deps = resolveDeps();

function offers(type: string, architectures: ('x86_64' | 'arm64')[]) {
  ec2Mock.on(DescribeInstanceTypesCommand, { InstanceTypes: [type as never] }).resolves({
    InstanceTypes: [
      { InstanceType: type as never, ProcessorInfo: { SupportedArchitectures: architectures } },
    ],
  });
}

beforeEach(() => {
  ec2Mock.reset();
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
  ec2Mock.on(DescribeImagesCommand).resolves({
    Images: [
      {
        ImageId: 'ami-0123456789abcdef0',
        Name: 'al2023-ami-2026.11.20-kernel-6.1-x86_64',
        OwnerId: '137112412989',
        Architecture: 'x86_64',
        CreationDate: '2026-11-20T10:00:00.000Z',
        State: 'available',
        RootDeviceName: '/dev/xvda',
        BlockDeviceMappings: [
          { DeviceName: '/dev/xvda', Ebs: { SnapshotId: 'snap-0aaaaaaaaaaaaaaaa', VolumeSize: 8 } },
        ],
      },
    ],
  });
  offers('t3.small', ['x86_64']);
  offers('m5.large', ['x86_64']);
  offers('t4g.small', ['arm64']);
});

const script = '#!/bin/bash\ncurl -fsS http://localhost/\n';

describe('resolveRecipe with a launch test', () => {
  it('puts no tests and no test budget in the context of a recipe without `test` (TestOrNot skips TestImage)', async () => {
    // Act
    const context = await resolveRecipe({ bakeId: BAKE_ID, recipe: recipe() }, deps);

    // Assess
    expect(context.tests).toBeUndefined();
    expect(context.budgets.testSeconds).toBeUndefined();
  });

  it('tests on the builder type when the recipe lists none, with the budget in seconds', async () => {
    // Act
    const context = await resolveRecipe(
      { bakeId: BAKE_ID, recipe: recipe({ test: { script, timeoutMinutes: 7.5 } }) },
      deps,
    );

    // Assess
    expect(context.tests).toEqual([{ instanceType: 't3.small' }]);
    expect(context.budgets.testSeconds).toBe(450);
  });

  it('lists one test per instance type, in the recipe order', async () => {
    // Act
    const context = await resolveRecipe(
      { bakeId: BAKE_ID, recipe: recipe({ test: { script, instanceTypes: ['m5.large', 't3.small'] } }) },
      deps,
    );

    // Assess
    expect(context.tests).toEqual([{ instanceType: 'm5.large' }, { instanceType: 't3.small' }]);
    expect(context.budgets.testSeconds).toBe(900);
  });

  it('refuses a test type that cannot run the image architecture, naming the field', async () => {
    // Act
    const error = await resolveRecipe(
      { bakeId: BAKE_ID, recipe: recipe({ test: { script, instanceTypes: ['m5.large', 't4g.small'] } }) },
      deps,
    ).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(RecipeInvalidError);
    expect((error as RecipeInvalidError).problems).toEqual([
      {
        path: 'test.instanceTypes.1',
        message: 't4g.small runs arm64, but the base image ami-0123456789abcdef0 is x86_64',
      },
    ]);
  });

  it("tests each architecture's bake on its own listed types when they are keyed by architecture", async () => {
    // Act
    const context = await resolveRecipe(
      {
        bakeId: BAKE_ID,
        recipe: recipe({ test: { script, instanceTypes: { x86_64: ['m5.large'], arm64: ['t4g.small'] } } }),
      },
      deps,
    );

    // Assess: the base image is x86_64, so the arm64 list is not this bake's.
    expect(context.tests).toEqual([{ instanceType: 'm5.large' }]);
  });

  it('refuses a test type the region does not offer', async () => {
    // Prepare
    ec2Mock
      .on(DescribeInstanceTypesCommand, { InstanceTypes: ['x9.huge' as never] })
      .resolves({ InstanceTypes: [] });

    // Act
    const error = await resolveRecipe(
      { bakeId: BAKE_ID, recipe: recipe({ test: { script, instanceTypes: ['x9.huge'] } }) },
      deps,
    ).catch((e: unknown) => e);

    // Assess
    expect((error as RecipeInvalidError).problems).toEqual([
      { path: 'test.instanceTypes.0', message: 'x9.huge is not offered in us-east-1' },
    ]);
  });
});
