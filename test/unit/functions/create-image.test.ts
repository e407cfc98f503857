import { CreateImageCommand, DescribeImagesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { createImage } from '../../../functions/create-image/core.js';
import { awsError, BUILD_REGION, context, LINEAGE_TAGS, now, recipe } from './fixtures.js';

const ec2Mock = mockClient(EC2Client);
const deps = { ec2: new EC2Client({ region: BUILD_REGION }), now };
const input = {
  recipe: recipe({ image: { description: 'nginx on AL2023' } }),
  context: context(),
  builder: { instanceId: 'i-0builder00000001' },
};

beforeEach(() => ec2Mock.reset());

describe('createImage', () => {
  it('images the stopped builder without a reboot, tagged with its lineage at creation', async () => {
    // Prepare
    ec2Mock.on(CreateImageCommand).resolves({ ImageId: 'ami-0new0000000000001' });

    // Act
    const result = await createImage(input, deps);

    // Assess
    expect(result).toEqual({
      imageId: 'ami-0new0000000000001',
      region: BUILD_REGION,
      at: '2026-11-26T04:47:42.123Z',
    });
    expect(ec2Mock).toHaveReceivedCommandExactlyOnceWith(CreateImageCommand, {
      InstanceId: 'i-0builder00000001',
      Name: 'web-20261126-044742-0001abcd',
      Description: 'nginx on AL2023',
      NoReboot: true,
      TagSpecifications: [
        {
          ResourceType: 'image',
          Tags: expect.arrayContaining([
            ...LINEAGE_TAGS,
            { Key: 'Name', Value: 'web-20261126-044742-0001abcd' },
          ]),
        },
      ],
    });
  });

  it('returns the image a lost earlier attempt created when the name is already taken', async () => {
    // Prepare
    ec2Mock.on(CreateImageCommand).rejects(awsError('InvalidAMIName.Duplicate'));
    ec2Mock
      .on(DescribeImagesCommand)
      .resolves({ Images: [{ ImageId: 'ami-0earlier00000001', Tags: LINEAGE_TAGS }] });

    // Act
    const result = await createImage(input, deps);

    // Assess
    expect(result.imageId).toBe('ami-0earlier00000001');
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeImagesCommand, {
      Owners: ['self'],
      Filters: [
        { Name: 'tag:ami-bake:bake-id', Values: [context().bakeId] },
        { Name: 'name', Values: ['web-20261126-044742-0001abcd'] },
      ],
    });
  });

  it('rethrows the duplicate-name error when the image of that name is not this bake’s', async () => {
    // Prepare
    ec2Mock.on(CreateImageCommand).rejects(awsError('InvalidAMIName.Duplicate'));
    ec2Mock.on(DescribeImagesCommand).resolves({ Images: [] });

    // Act / Assess
    await expect(createImage(input, deps)).rejects.toMatchObject({ name: 'InvalidAMIName.Duplicate' });
  });

  it('rethrows any other EC2 error without looking for an earlier image', async () => {
    // Prepare
    ec2Mock.on(CreateImageCommand).rejects(awsError('IncorrectInstanceState'));

    // Act / Assess
    await expect(createImage(input, deps)).rejects.toMatchObject({ name: 'IncorrectInstanceState' });
    expect(ec2Mock).not.toHaveReceivedCommand(DescribeImagesCommand);
  });
});
