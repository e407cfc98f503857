import {
  DescribeImagesCommand,
  DescribeInstanceTypeOfferingsCommand,
  DescribeInstanceTypesCommand,
  DescribeRouteTablesCommand,
  DescribeSubnetsCommand,
  DescribeVpcEndpointsCommand,
  EC2Client,
  GetInstanceTypesFromInstanceRequirementsCommand,
  type InstanceTypeInfo,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { cheapestFirst } from '../../../functions/resolve-recipe/candidates.js';
import { resolveRecipe } from '../../../functions/resolve-recipe/core.js';
import type { RecipeInput } from '../../../lib/recipe/schema.js';
import { BAKE_ID, recipe, resolveDeps } from './fixtures.js';

const ec2Mock = mockClient(EC2Client);
const deps = resolveDeps();

/** A type as DescribeInstanceTypes describes it, with what the order reads. */
function info(
  name: string,
  vCpus: number,
  gib: number,
  extra: Partial<InstanceTypeInfo> = {},
): InstanceTypeInfo {
  return {
    InstanceType: name as never,
    VCpuInfo: { DefaultVCpus: vCpus },
    MemoryInfo: { SizeInMiB: gib * 1024 },
    ProcessorInfo: { SupportedArchitectures: ['x86_64'] },
    BurstablePerformanceSupported: false,
    InstanceStorageSupported: false,
    ...extra,
  };
}

const CATALOG = [
  info('r7i.large', 2, 16),
  info('m7i.large', 2, 8),
  info('m6i.large', 2, 8),
  info('m5.large', 2, 8),
  info('c7i.xlarge', 4, 8),
  info('m6id.large', 2, 8, { InstanceStorageSupported: true }),
  info('t3.large', 2, 8, { BurstablePerformanceSupported: true }),
];

/** EC2 says these fit; the zone us-east-1a offers `zone` of them. */
function account(fitting: string[], zone: string[]) {
  ec2Mock.on(DescribeImagesCommand).resolves({
    Images: [
      {
        ImageId: 'ami-0123456789abcdef0',
        Name: 'al2023',
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
  ec2Mock.on(GetInstanceTypesFromInstanceRequirementsCommand).resolves({
    InstanceTypes: fitting.map((InstanceType) => ({ InstanceType })),
  });
  ec2Mock.on(DescribeInstanceTypesCommand).callsFake(({ InstanceTypes = [] }) => ({
    InstanceTypes: CATALOG.filter((t) => InstanceTypes.includes(t.InstanceType)),
  }));
  ec2Mock.on(DescribeSubnetsCommand).resolves({
    Subnets: [{ SubnetId: 'subnet-0defa0170000000a', VpcId: 'vpc-0abc', AvailabilityZone: 'us-east-1a' }],
  });
  ec2Mock.on(DescribeInstanceTypeOfferingsCommand).resolves({
    InstanceTypeOfferings: zone.map((InstanceType) => ({
      InstanceType: InstanceType as never,
      Location: 'us-east-1a',
    })),
  });
  ec2Mock.on(DescribeRouteTablesCommand).resolves({
    RouteTables: [
      { Routes: [{ DestinationCidrBlock: '0.0.0.0/0', GatewayId: 'igw-0abc', State: 'active' }] },
    ],
  });
  ec2Mock.on(DescribeVpcEndpointsCommand).resolves({ VpcEndpoints: [] });
}

const sized = (requirements: NonNullable<RecipeInput['builder']['requirements']>) =>
  recipe({ builder: { requirements } });

async function problemsOf(promise: Promise<unknown>) {
  const error = await promise.then(
    () => expect.fail('expected RecipeInvalidError'),
    (e: unknown) => e as { name: string; problems: { path: string; message: string }[] },
  );
  expect(error.name).toBe('RecipeInvalidError');
  return error.problems;
}

beforeEach(() => {
  ec2Mock.reset();
});

describe('cheapestFirst: the launch order of fitting types', () => {
  it('puts fewer vCPUs and less memory first, burstable before fixed, local disks after', () => {
    expect(cheapestFirst(CATALOG)).toEqual([
      't3.large',
      'm7i.large',
      'm6i.large',
      'm5.large',
      'm6id.large',
      'r7i.large',
      'c7i.xlarge',
    ]);
  });

  it('orders equal estimates by newer generation, then name, whatever order EC2 answered in', () => {
    const same = [
      info('m5.large', 2, 8),
      info('m7a.large', 2, 8),
      info('m7i.large', 2, 8),
      info('m6i.large', 2, 8),
    ];
    expect(cheapestFirst(same)).toEqual(['m7a.large', 'm7i.large', 'm6i.large', 'm5.large']);
    expect(cheapestFirst([...same].reverse())).toEqual(cheapestFirst(same));
  });
});

describe('resolveRecipe: builder.requirements', () => {
  it('lists the fitting types the subnet zone offers, cheapest first, at most maxCandidates', async () => {
    // Prepare
    account(
      ['r7i.large', 'm7i.large', 'm6i.large', 'm5.large', 'c7i.xlarge'],
      ['r7i.large', 'm6i.large', 'm5.large', 'c7i.xlarge'],
    );

    // Act
    const context = await resolveRecipe(
      { bakeId: BAKE_ID, recipe: sized({ vCpus: { min: 2 }, memoryGiB: { min: 8 }, maxCandidates: 3 }) },
      deps,
    );

    // Assess
    expect(context.instanceTypes).toEqual(['m6i.large', 'm5.large', 'r7i.large']);
    expect(context.network?.subnetId).toBe('subnet-0defa0170000000a');
  });

  it("asks EC2 for hvm types of the base image's architecture, memory in MiB, burstable excluded and current generation by default", async () => {
    // Prepare
    account(['m7i.large'], ['m7i.large']);

    // Act
    await resolveRecipe(
      { bakeId: BAKE_ID, recipe: sized({ vCpus: { min: 2, max: 4 }, memoryGiB: { min: 4, max: 16 } }) },
      deps,
    );

    // Assess
    expect(ec2Mock).toHaveReceivedCommandWith(GetInstanceTypesFromInstanceRequirementsCommand, {
      ArchitectureTypes: ['x86_64'],
      VirtualizationTypes: ['hvm'],
      InstanceRequirements: {
        VCpuCount: { Min: 2, Max: 4 },
        MemoryMiB: { Min: 4096, Max: 16384 },
        BurstablePerformance: 'excluded',
        InstanceGenerations: ['current'],
      },
    });
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeInstanceTypeOfferingsCommand, {
      LocationType: 'availability-zone',
      Filters: [{ Name: 'location', Values: ['us-east-1a'] }],
    });
  });

  it('lists the one type of an instanceType recipe without asking EC2 what fits', async () => {
    // Prepare
    account([], []);
    ec2Mock.on(DescribeInstanceTypesCommand).resolves({ InstanceTypes: [info('t3.small', 2, 2)] });

    // Act
    const context = await resolveRecipe({ bakeId: BAKE_ID, recipe: recipe() }, deps);

    // Assess
    expect(context.instanceTypes).toEqual(['t3.small']);
    expect(ec2Mock).not.toHaveReceivedCommand(GetInstanceTypesFromInstanceRequirementsCommand);
  });

  it('refuses requirements no type meets, naming the field', async () => {
    // Prepare
    account([], []);

    // Act
    const problems = await problemsOf(
      resolveRecipe({ bakeId: BAKE_ID, recipe: sized({ vCpus: { min: 448 }, memoryGiB: { min: 1 } }) }, deps),
    );

    // Assess
    expect(problems).toContainEqual({
      path: 'builder.requirements',
      message:
        'no x86_64 instance type meets at least 448 vCPUs and at least 1 GiB (burstable excluded, current generation)',
    });
  });

  it("refuses requirements whose fitting types the subnet's zone does not offer", async () => {
    // Prepare
    account(['m7i.large'], ['t3.small']);

    // Act
    const problems = await problemsOf(
      resolveRecipe({ bakeId: BAKE_ID, recipe: sized({ vCpus: { min: 2 }, memoryGiB: { min: 8 } }) }, deps),
    );

    // Assess
    expect(problems).toEqual([
      expect.objectContaining({
        path: 'builder.requirements',
        message: expect.stringContaining('us-east-1a'),
      }),
    ]);
  });

  it('refuses an architecture other than the base image has', async () => {
    // Prepare
    account(['m7g.large'], ['m7g.large']);

    // Act
    const problems = await problemsOf(
      resolveRecipe(
        {
          bakeId: BAKE_ID,
          recipe: sized({ vCpus: { min: 2 }, memoryGiB: { min: 8 }, architecture: 'arm64' }),
        },
        deps,
      ),
    );

    // Assess
    expect(problems).toContainEqual({
      path: 'builder.requirements.architecture',
      message: 'is arm64, but the base image ami-0123456789abcdef0 is x86_64',
    });
  });
});
