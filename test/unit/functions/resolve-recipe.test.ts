import {
  DescribeImagesCommand,
  DescribeInstanceTypeOfferingsCommand,
  DescribeInstanceTypesCommand,
  DescribeRouteTablesCommand,
  DescribeSubnetsCommand,
  DescribeVpcEndpointsCommand,
  EC2Client,
  type Image,
  type Route,
} from '@aws-sdk/client-ec2';
import { DescribeKeyCommand, type KeyMetadata, KMSClient } from '@aws-sdk/client-kms';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { resolveRecipe } from '../../../functions/resolve-recipe/core.js';
import { BaseImageNotFoundError, RecipeInvalidError } from '../../../lib/errors.js';
import { contextSchema } from '../../../lib/state.js';
import { awsError, BAKE_ID, BUILD_REGION, now, recipe } from './fixtures.js';

const ec2Mock = mockClient(EC2Client);
const ssmMock = mockClient(SSMClient);
const KEY_REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2'] as const;
const kmsClients = new Map<string, KMSClient>(KEY_REGIONS.map((r) => [r, new KMSClient({ region: r })]));
const kmsMocks = new Map([...kmsClients].map(([r, c]) => [r, mockClient(c)] as const));
const kmsMock = (region: string) => kmsMocks.get(region) ?? expect.fail(`no KMS mock for ${region}`);
const deps = {
  ec2: new EC2Client({ region: BUILD_REGION }),
  ssm: new SSMClient({ region: BUILD_REGION }),
  kms: (region: string) => kmsClients.get(region) ?? expect.fail(`no KMS client for ${region}`),
  region: BUILD_REGION,
  now,
};
const DEFAULT_SUBNET = 'subnet-0defa0170000000a';
const SHARED = { launchPermissions: { accounts: ['111122223333'] } };

/** What KMS says about a key: a customer-managed, enabled key unless told otherwise. */
function key(region: string, keyId: string, metadata: Partial<KeyMetadata> = {}) {
  kmsMock(region)
    .on(DescribeKeyCommand, { KeyId: keyId })
    .resolves({ KeyMetadata: { KeyId: 'k', KeyManager: 'CUSTOMER', KeyState: 'Enabled', ...metadata } });
}

/** The default VPC as a fresh account has it: one default subnet, main table routed to an internet gateway. */
function defaultVpc(
  routes: Route[] = [{ DestinationCidrBlock: '0.0.0.0/0', GatewayId: 'igw-0abc', State: 'active' }],
) {
  ec2Mock
    .on(DescribeSubnetsCommand)
    .resolves({ Subnets: [{ SubnetId: DEFAULT_SUBNET, VpcId: 'vpc-0abc', AvailabilityZone: 'us-east-1a' }] });
  ec2Mock.on(DescribeInstanceTypeOfferingsCommand).resolves({ InstanceTypeOfferings: [] });
  ec2Mock.on(DescribeRouteTablesCommand).resolves({ RouteTables: [] });
  ec2Mock
    .on(DescribeRouteTablesCommand, {
      Filters: [
        { Name: 'vpc-id', Values: ['vpc-0abc'] },
        { Name: 'association.main', Values: ['true'] },
      ],
    })
    .resolves({ RouteTables: [{ Routes: routes }] });
  ec2Mock.on(DescribeVpcEndpointsCommand).resolves({ VpcEndpoints: [] });
}

function image(overrides: Partial<Image> = {}): Image {
  return {
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
    ...overrides,
  };
}

function offers(type: string, architectures: ('x86_64' | 'arm64' | 'i386')[]) {
  ec2Mock.on(DescribeInstanceTypesCommand, { InstanceTypes: [type as never] }).resolves({
    InstanceTypes: [
      { InstanceType: type as never, ProcessorInfo: { SupportedArchitectures: architectures } },
    ],
  });
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

beforeEach(() => {
  ec2Mock.reset();
  ssmMock.reset();
  for (const m of kmsMocks.values()) m.reset();
  defaultVpc();
  offers('t3.small', ['x86_64', 'i386']);
  offers('t4g.small', ['arm64']);
  ec2Mock.on(DescribeImagesCommand).resolves({ Images: [image()] });
});

describe('resolveRecipe: choosing the base image', () => {
  it('resolves an SSM parameter to the image it names', async () => {
    // Prepare
    ssmMock
      .on(GetParameterCommand, {
        Name: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
      })
      .resolves({ Parameter: { Value: 'ami-0fedcba9876543210' } });
    ec2Mock
      .on(DescribeImagesCommand)
      .resolves({ Images: [image({ ImageId: 'ami-0fedcba9876543210', Name: 'al2023-from-ssm' })] });

    // Act
    const context = await resolveRecipe(
      {
        bakeId: BAKE_ID,
        recipe: recipe({
          base: { ssmParameter: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64' },
        }),
      },
      deps,
    );

    // Assess
    expect(context.base).toMatchObject({
      imageId: 'ami-0fedcba9876543210',
      name: 'al2023-from-ssm',
      architecture: 'x86_64',
      platform: 'linux',
    });
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeImagesCommand, {
      Filters: [{ Name: 'image-id', Values: ['ami-0fedcba9876543210'] }],
    });
  });

  it('picks the newest of several images matching a filter, whatever order EC2 lists them in', async () => {
    // Prepare
    ec2Mock.on(DescribeImagesCommand).resolves({
      Images: [
        image({ ImageId: 'ami-000000000000000a1', CreationDate: '2026-10-01T00:00:00.000Z' }),
        image({ ImageId: 'ami-000000000000000a3', CreationDate: '2026-11-21T08:00:00.000Z' }),
        image({ ImageId: 'ami-000000000000000a2', CreationDate: '2026-11-21T07:59:59.000Z' }),
      ],
    });

    // Act
    const context = await resolveRecipe(
      {
        bakeId: BAKE_ID,
        recipe: recipe({
          base: { filter: { owners: ['amazon'], name: 'al2023-ami-*-x86_64', architecture: 'x86_64' } },
        }),
      },
      deps,
    );

    // Assess
    expect(context.base.imageId).toBe('ami-000000000000000a3');
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeImagesCommand, {
      Owners: ['amazon'],
      Filters: [
        { Name: 'name', Values: ['al2023-ami-*-x86_64'] },
        { Name: 'state', Values: ['available'] },
        { Name: 'architecture', Values: ['x86_64'] },
      ],
    });
  });

  it('fails with BaseImageNotFoundError naming the owners, the name pattern and the region when no image matches', async () => {
    // Prepare
    ec2Mock.on(DescribeImagesCommand).resolves({ Images: [] });

    // Act
    const error = await rejection(
      resolveRecipe(
        {
          bakeId: BAKE_ID,
          recipe: recipe({ base: { filter: { owners: ['amazon', '123456789012'], name: 'nope-*' } } }),
        },
        deps,
      ),
    );

    // Assess
    expect(error).toBeInstanceOf(BaseImageNotFoundError);
    expect(error.name).toBe('BaseImageNotFoundError');
    expect(error.message).toContain('amazon, 123456789012');
    expect(error.message).toContain('"nope-*"');
    expect(error.message).toContain(BUILD_REGION);
  });

  it('turns a missing SSM parameter into BaseImageNotFoundError', async () => {
    // Prepare
    ssmMock.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'not found', $metadata: {} }));

    // Act
    const error = await rejection(
      resolveRecipe({ bakeId: BAKE_ID, recipe: recipe({ base: { ssmParameter: '/my/ami' } }) }, deps),
    );

    // Assess
    expect(error).toBeInstanceOf(BaseImageNotFoundError);
    expect(error.message).toContain('/my/ami');
    expect(ec2Mock).not.toHaveReceivedCommand(DescribeImagesCommand);
  });

  it('rejects an SSM parameter that does not hold an image id', async () => {
    // Prepare
    ssmMock.on(GetParameterCommand).resolves({ Parameter: { Value: 'latest' } });

    // Act
    const error = await rejection(
      resolveRecipe({ bakeId: BAKE_ID, recipe: recipe({ base: { ssmParameter: '/my/ami' } }) }, deps),
    );

    // Assess
    expect(error).toBeInstanceOf(BaseImageNotFoundError);
    expect(error.message).toContain('"latest"');
  });

  it('rejects a base image id that EC2 does not know, or that is not available', async () => {
    // Prepare
    ec2Mock
      .on(DescribeImagesCommand)
      .resolvesOnce({ Images: [] })
      .resolvesOnce({ Images: [image({ State: 'deregistered' })] });

    // Act
    const missing = await rejection(resolveRecipe({ bakeId: BAKE_ID, recipe: recipe() }, deps));
    const deregistered = await rejection(resolveRecipe({ bakeId: BAKE_ID, recipe: recipe() }, deps));

    // Assess
    expect(missing).toBeInstanceOf(BaseImageNotFoundError);
    expect(deregistered).toBeInstanceOf(BaseImageNotFoundError);
    expect(deregistered.message).toContain('deregistered');
  });
});

describe('resolveRecipe: checks only AWS can answer', () => {
  it('rejects an instance type whose architecture differs from the base image, at builder.instanceType', async () => {
    // Act
    const error = await rejection(
      resolveRecipe({ bakeId: BAKE_ID, recipe: recipe({ builder: { instanceType: 't4g.small' } }) }, deps),
    );

    // Assess
    expect(error).toBeInstanceOf(RecipeInvalidError);
    expect((error as RecipeInvalidError).problems).toEqual([
      expect.objectContaining({ path: 'builder.instanceType', message: expect.stringContaining('arm64') }),
    ]);
  });

  it('rejects an instance type the region does not offer', async () => {
    // Prepare
    ec2Mock
      .on(DescribeInstanceTypesCommand, { InstanceTypes: ['x9.huge' as never] })
      .rejects(awsError('InvalidInstanceType'));

    // Act
    const error = await rejection(
      resolveRecipe({ bakeId: BAKE_ID, recipe: recipe({ builder: { instanceType: 'x9.huge' } }) }, deps),
    );

    // Assess
    expect((error as RecipeInvalidError).problems.map((p) => p.path)).toEqual(['builder.instanceType']);
  });

  it('describes an instance type once per region in a warm container, and asks again after a failure', async () => {
    // Prepare: the handler keeps one cache for the container's life.
    const instanceTypes = new Map();
    const warm = { ...deps, instanceTypes };
    const bake = () => resolveRecipe({ bakeId: BAKE_ID, recipe: recipe() }, warm);
    ec2Mock
      .on(DescribeInstanceTypesCommand, { InstanceTypes: ['t3.small' as never] })
      .rejectsOnce(awsError('RequestLimitExceeded'))
      .resolves({
        InstanceTypes: [{ InstanceType: 't3.small', ProcessorInfo: { SupportedArchitectures: ['x86_64'] } }],
      });

    // Act
    await expect(bake()).rejects.toMatchObject({ name: 'RequestLimitExceeded' });
    await bake();
    await bake();
    await resolveRecipe(
      { bakeId: BAKE_ID, recipe: recipe() },
      { ...warm, ec2: new EC2Client({ region: 'eu-west-1' }), region: 'eu-west-1' },
    );

    // Assess: the failed call, one for us-east-1, one for eu-west-1.
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeInstanceTypesCommand, 3);
  });

  it('rejects a root volume smaller than the base image snapshot, at builder.volumes.root.sizeGiB', async () => {
    // Prepare
    ec2Mock.on(DescribeImagesCommand).resolves({
      Images: [image({ BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 30 } }] })],
    });

    // Act
    const error = await rejection(
      resolveRecipe(
        {
          bakeId: BAKE_ID,
          recipe: recipe({ builder: { instanceType: 't3.small', volumes: { root: { sizeGiB: 20 } } } }),
        },
        deps,
      ),
    );

    // Assess
    expect(error).toBeInstanceOf(RecipeInvalidError);
    expect((error as RecipeInvalidError).problems).toEqual([
      expect.objectContaining({
        path: 'builder.volumes.root.sizeGiB',
        message: expect.stringContaining('30 GiB'),
      }),
    ]);
  });

  it('accepts a root volume as large as the base image snapshot', async () => {
    // Act
    const context = await resolveRecipe(
      {
        bakeId: BAKE_ID,
        recipe: recipe({ builder: { instanceType: 't3.small', volumes: { root: { sizeGiB: 8 } } } }),
      },
      deps,
    );

    // Assess
    expect(context.base.rootVolumeSizeGiB).toBe(8);
  });

  it('rejects a windows recipe on a linux base image, at bootstrap.platform', async () => {
    // Act
    const error = await rejection(
      resolveRecipe(
        {
          bakeId: BAKE_ID,
          recipe: recipe({ bootstrap: { platform: 'windows', script: 'Write-Output "hi"' } }),
        },
        deps,
      ),
    );

    // Assess
    expect(error).toBeInstanceOf(RecipeInvalidError);
    expect((error as RecipeInvalidError).problems.map((p) => p.path)).toEqual(['bootstrap.platform']);
  });

  it('reports every problem at once, each with its path', async () => {
    // Prepare
    ec2Mock.on(DescribeImagesCommand).resolves({
      Images: [image({ BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 30 } }] })],
    });

    // Act
    const error = await rejection(
      resolveRecipe(
        {
          bakeId: BAKE_ID,
          recipe: recipe({
            builder: { instanceType: 't4g.small', volumes: { root: { sizeGiB: 10 } } },
            bootstrap: { platform: 'windows', script: 'Write-Output "hi"' },
          }),
        },
        deps,
      ),
    );

    // Assess
    expect((error as RecipeInvalidError).problems.map((p) => p.path).sort()).toEqual([
      'bootstrap.platform',
      'builder.instanceType',
      'builder.volumes.root.sizeGiB',
    ]);
    expect(error.message).toContain('builder.volumes.root.sizeGiB:');
  });
});

describe('resolveRecipe: the context later states use', () => {
  it('turns timeouts in minutes into whole-second budgets, rounded up, at least one second', async () => {
    // Act
    const context = await resolveRecipe(
      {
        bakeId: BAKE_ID,
        recipe: recipe({
          bootstrap: { script: 'echo hi', timeoutMinutes: 0.001 },
          image: { timeoutMinutes: 1.505 },
          distribution: { copyTimeoutMinutes: 90 },
        }),
      },
      deps,
    );

    // Assess
    expect(context.budgets).toEqual({ bootstrapSeconds: 1, imageSeconds: 91, copySeconds: 5400 });
  });

  it('copies to every distribution region except the build region, with its KMS key', async () => {
    // Prepare
    key('ap-southeast-2', 'alias/ami');

    // Act
    const context = await resolveRecipe(
      {
        bakeId: BAKE_ID,
        recipe: recipe({
          distribution: {
            regions: ['eu-west-1', BUILD_REGION, 'ap-southeast-2'],
            kmsKeyIds: { 'ap-southeast-2': 'alias/ami' },
          },
        }),
      },
      deps,
    );

    // Assess
    expect(context.copyTargets.map((t) => t.region)).toEqual(['eu-west-1', 'ap-southeast-2']);
    expect(context.copyTargets[1]?.kmsKeyId).toBe('alias/ami');
    expect(context.copyTargets[0]?.kmsKeyId).toBeUndefined();
  });

  it('renders the image name template with the recipe, UTC date and time, bake id and short id', async () => {
    // Act
    const context = await resolveRecipe(
      {
        bakeId: BAKE_ID,
        recipe: recipe({ image: { name: '{recipe}-{date}-{time}-{shortId} {timestamp} ({bakeId})' } }),
      },
      deps,
    );

    // Assess
    expect(context.imageName).toBe(`web-20261126-044742-0001abcd 20261126T044742Z (${BAKE_ID})`);
    expect(context.shortId).toBe('0001abcd');
  });

  it('returns a context that satisfies the schema every later state validates against', async () => {
    // Act
    const context = await resolveRecipe({ bakeId: BAKE_ID, recipe: recipe() }, deps);

    // Assess
    expect(contextSchema.safeParse(context).success).toBe(true);
    expect(context).toMatchObject({
      bakeId: BAKE_ID,
      recipeName: 'web',
      buildRegion: BUILD_REGION,
      startedAt: '2026-11-26T04:47:42.123Z',
    });
    expect(context.recipeHash).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('resolveRecipe: the builder can reach the EC2 API', () => {
  it("decides the default VPC's subnet and a public IP where the route out is an internet gateway", async () => {
    // Act
    const context = await resolveRecipe({ bakeId: BAKE_ID, recipe: recipe() }, deps);

    // Assess
    expect(context.network).toEqual({ subnetId: DEFAULT_SUBNET, publicIp: true, via: 'internet-gateway' });
    expect(contextSchema.safeParse(context).success).toBe(true);
  });

  it('fails early at builder.associatePublicIp when false leaves the builder no way out', async () => {
    // Act
    const error = await rejection(
      resolveRecipe(
        {
          bakeId: BAKE_ID,
          recipe: recipe({ builder: { instanceType: 't3.small', associatePublicIp: false } }),
        },
        deps,
      ),
    );

    // Assess
    expect(error).toBeInstanceOf(RecipeInvalidError);
    expect((error as RecipeInvalidError).problems).toEqual([
      {
        path: 'builder.associatePublicIp',
        message: expect.stringContaining(
          `subnet ${DEFAULT_SUBNET} routes 0.0.0.0/0 to igw-0abc but associatePublicIp is false`,
        ),
      },
    ]);
  });

  it('fails early at builder.subnetId in a subnet with no route out and no EC2 endpoint', async () => {
    // Prepare
    defaultVpc([]);

    // Act
    const error = await rejection(resolveRecipe({ bakeId: BAKE_ID, recipe: recipe() }, deps));

    // Assess
    expect((error as RecipeInvalidError).problems).toEqual([
      { path: 'builder.subnetId', message: expect.stringContaining('has no route to 0.0.0.0/0') },
    ]);
  });

  it('keeps what it assumed about the way out, for the log', async () => {
    // Prepare
    defaultVpc([{ DestinationCidrBlock: '0.0.0.0/0', TransitGatewayId: 'tgw-0abc', State: 'active' }]);

    // Act
    const context = await resolveRecipe({ bakeId: BAKE_ID, recipe: recipe() }, deps);

    // Assess
    expect(context.network).toMatchObject({ publicIp: false, via: 'transit-gateway' });
    expect(context.network?.note).toContain('assumed');
  });
});

describe('resolveRecipe: KMS keys', () => {
  const everyRegion = {
    regions: [...KEY_REGIONS],
    kmsKeyIds: Object.fromEntries(KEY_REGIONS.map((r) => [r, 'alias/ami-bake'])) as Record<
      (typeof KEY_REGIONS)[number],
      string
    >,
  };

  it("checks each named key in its own region and hands the build region's to the builder volumes", async () => {
    // Prepare
    for (const r of KEY_REGIONS) key(r, 'alias/ami-bake');

    // Act
    const context = await resolveRecipe(
      { bakeId: BAKE_ID, recipe: recipe({ distribution: { ...everyRegion, ...SHARED } }) },
      deps,
    );

    // Assess
    expect(context.buildKmsKeyId).toBe('alias/ami-bake');
    expect(context.copyTargets).toEqual([
      { region: 'eu-west-1', kmsKeyId: 'alias/ami-bake' },
      { region: 'ap-southeast-2', kmsKeyId: 'alias/ami-bake' },
    ]);
    for (const r of KEY_REGIONS)
      expect(kmsMock(r)).toHaveReceivedCommandWith(DescribeKeyCommand, { KeyId: 'alias/ami-bake' });
  });

  it('fails early naming the field of a key that does not exist in its region, or is not enabled', async () => {
    // Prepare
    key(BUILD_REGION, 'alias/ami-bake');
    kmsMock('eu-west-1').on(DescribeKeyCommand).rejects(awsError('NotFoundException', 'Alias not found'));
    key('ap-southeast-2', 'alias/ami-bake', { KeyState: 'PendingDeletion' });

    // Act
    const error = await rejection(
      resolveRecipe(
        { bakeId: BAKE_ID, recipe: recipe({ distribution: { ...everyRegion, ...SHARED } }) },
        deps,
      ),
    );

    // Assess
    expect((error as RecipeInvalidError).problems).toEqual([
      {
        path: 'distribution.kmsKeyIds.eu-west-1',
        message: expect.stringContaining('alias/ami-bake does not exist in eu-west-1'),
      },
      {
        path: 'distribution.kmsKeyIds.ap-southeast-2',
        message: expect.stringContaining('PendingDeletion'),
      },
    ]);
  });

  it('refuses an AWS managed key for a shared image, and accepts it for an image nobody else gets', async () => {
    // Prepare
    for (const r of KEY_REGIONS)
      key(r, 'alias/ami-bake', { KeyManager: r === 'eu-west-1' ? 'AWS' : 'CUSTOMER' });

    // Act
    const shared = await rejection(
      resolveRecipe(
        { bakeId: BAKE_ID, recipe: recipe({ distribution: { ...everyRegion, ...SHARED } }) },
        deps,
      ),
    );
    const unshared = await resolveRecipe(
      { bakeId: BAKE_ID, recipe: recipe({ distribution: everyRegion }) },
      deps,
    );

    // Assess
    expect((shared as RecipeInvalidError).problems).toEqual([
      { path: 'distribution.kmsKeyIds.eu-west-1', message: expect.stringContaining('AWS managed key') },
    ]);
    expect(unshared.buildKmsKeyId).toBe('alias/ami-bake');
  });

  it('checks a builder volume key in the build region, at the volume', async () => {
    // Prepare
    kmsMock(BUILD_REGION).on(DescribeKeyCommand).rejects(awsError('NotFoundException'));

    // Act
    const error = await rejection(
      resolveRecipe(
        {
          bakeId: BAKE_ID,
          recipe: recipe({
            builder: { instanceType: 't3.small', volumes: { root: { kmsKeyId: 'alias/nope' } } },
          }),
        },
        deps,
      ),
    );

    // Assess
    expect((error as RecipeInvalidError).problems.map((p) => p.path)).toEqual([
      'builder.volumes.root.kmsKeyId',
    ]);
  });

  it('asks for a key in the build region when a shared image is copied elsewhere but not listed there', async () => {
    // Prepare
    key('eu-west-1', 'alias/ami-bake');

    // Act
    const error = await rejection(
      resolveRecipe(
        {
          bakeId: BAKE_ID,
          recipe: recipe({
            distribution: { regions: ['eu-west-1'], kmsKeyIds: { 'eu-west-1': 'alias/ami-bake' }, ...SHARED },
          }),
        },
        deps,
      ),
    );

    // Assess
    expect((error as RecipeInvalidError).problems).toEqual([
      {
        path: `distribution.kmsKeyIds.${BUILD_REGION}`,
        message: expect.stringContaining(
          `${BUILD_REGION} is the build region: list it in distribution.regions`,
        ),
      },
    ]);
  });
});
