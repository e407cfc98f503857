import { DescribeImagesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { resolveBase } from '../../../lib/recipe/base-image.js';
import { recipeSchema } from '../../../lib/recipe/schema.js';

const recipe = (builder: Record<string, unknown>) => ({
  name: 'web',
  base: { imageId: 'ami-0123456789abcdef0' },
  builder,
  bootstrap: { script: 'echo hi' },
});

describe('AMI kinds ami-bake does not make (docs/recipes.md#not-supported)', () => {
  it('refuses a macOS builder type, naming the field and why', () => {
    // Act
    const issues = recipeSchema.safeParse(recipe({ instanceType: 'mac2.metal' })).error?.issues ?? [];

    // Assess
    expect(issues.map((i) => ({ path: i.path.join('.'), message: i.message }))).toEqual([
      {
        path: 'builder.instanceType',
        message: expect.stringMatching(
          /^macOS builders are not supported: EC2 Mac instances run only on Dedicated Hosts/,
        ),
      },
    ]);
  });

  it('refuses an instance-store-backed base image before anything is launched', async () => {
    // Prepare
    const ec2 = new EC2Client({ region: 'us-east-1' });
    mockClient(ec2)
      .on(DescribeImagesCommand)
      .resolves({
        Images: [
          {
            ImageId: 'ami-0123456789abcdef0',
            State: 'available',
            Architecture: 'x86_64',
            RootDeviceType: 'instance-store',
            RootDeviceName: '/dev/sda1',
          },
        ],
      });

    // Act
    const error = await resolveBase(
      { imageId: 'ami-0123456789abcdef0' },
      { ec2, ssm: new SSMClient({ region: 'us-east-1' }), region: 'us-east-1' },
    ).catch((e: unknown) => e);

    // Assess
    expect(error).toMatchObject({
      name: 'RecipeInvalidError',
      problems: [
        {
          path: 'base',
          message:
            'ami-0123456789abcdef0 is instance-store-backed; ami-bake bakes from EBS-backed images only',
        },
      ],
    });
  });
});
