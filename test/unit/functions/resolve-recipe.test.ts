import {
  DescribeImagesCommand,
  DescribeInstanceTypesCommand,
  EC2Client,
  type Image,
} from '@aws-sdk/client-ec2';
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
const deps = {
  ec2: new EC2Client({ region: BUILD_REGION }),
  ssm: new SSMClient({ region: BUILD_REGION }),
  region: BUILD_REGION,
  now,
};

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
