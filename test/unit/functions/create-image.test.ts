import { CreateImageCommand, DescribeImagesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { createImage } from '../../../functions/create-image/core.js';
import { ImageNotYetVisibleError } from '../../../lib/errors.js';
import { awsError, BUILD_REGION, context, LINEAGE_TAGS, now, recipe } from './fixtures.js';

const ec2Mock = mockClient(EC2Client);
/** The backoff between looks for an earlier attempt's image, recorded instead of slept. */
let waits: number[] = [];
const deps = {
  ec2: new EC2Client({ region: BUILD_REGION }),
  now,
  sleep: async (ms: number) => void waits.push(ms),
};
const input = {
  recipe: recipe({ image: { description: 'nginx on AL2023' } }),
  context: context(),
  builder: { instanceId: 'i-0builder00000001' },
};

beforeEach(() => {
  ec2Mock.reset();
  waits = [];
});

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
        { ResourceType: 'snapshot', Tags: expect.arrayContaining(LINEAGE_TAGS) },
      ],
    });
  });

  it("tags the image's snapshots at creation, with the lineage and the recipe's snapshot tags", async () => {
    // Prepare
    ec2Mock.on(CreateImageCommand).resolves({ ImageId: 'ami-0new0000000000001' });
    const withSnapshotTags = {
      ...input,
      recipe: recipe({ image: { snapshotTags: { backup: 'none' } } }),
    };

    // Act
    await createImage(withSnapshotTags, deps);

    // Assess
    const spec = ec2Mock
      .commandCalls(CreateImageCommand)[0]
      ?.args[0].input.TagSpecifications?.find((t) => t.ResourceType === 'snapshot');
    expect(spec?.Tags).toEqual(
      expect.arrayContaining([
        ...LINEAGE_TAGS,
        { Key: 'Name', Value: 'web-20261126-044742-0001abcd' },
        { Key: 'backup', Value: 'none' },
      ]),
    );
  });

  it("gives the image the recipe's tags and Name at creation, so nothing tags it afterwards", async () => {
    // Prepare
    ec2Mock.on(CreateImageCommand).resolves({ ImageId: 'ami-0new0000000000001' });
    const tagged = { ...input, recipe: recipe({ image: { tags: { team: 'platform', os: 'al2023' } } }) };

    // Act
    await createImage(tagged, deps);

    // Assess
    const spec = ec2Mock
      .commandCalls(CreateImageCommand)[0]
      ?.args[0].input.TagSpecifications?.find((t) => t.ResourceType === 'image');
    expect(spec?.Tags).toEqual(
      expect.arrayContaining([
        ...LINEAGE_TAGS,
        { Key: 'Name', Value: 'web-20261126-044742-0001abcd' },
        { Key: 'team', Value: 'platform' },
        { Key: 'os', Value: 'al2023' },
      ]),
    );
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
      Filters: [{ Name: 'name', Values: ['web-20261126-044742-0001abcd'] }],
    });
    expect(waits).toEqual([]);
  });

  it('looks again with a short backoff when the earlier image is not visible yet, then adopts it', async () => {
    // Prepare: EC2 is eventually consistent right after the first, lost-response CreateImage.
    ec2Mock.on(CreateImageCommand).rejects(awsError('InvalidAMIName.Duplicate'));
    ec2Mock
      .on(DescribeImagesCommand)
      .resolvesOnce({ Images: [] })
      .resolvesOnce({ Images: [] })
      .resolves({ Images: [{ ImageId: 'ami-0earlier00000001', Tags: LINEAGE_TAGS }] });

    // Act
    const result = await createImage(input, deps);

    // Assess
    expect(result.imageId).toBe('ami-0earlier00000001');
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeImagesCommand, 3);
    expect(waits).toHaveLength(2);
  });

  it('throws the retryable ImageNotYetVisibleError when the image stays invisible, well inside the Lambda timeout', async () => {
    // Prepare
    ec2Mock.on(CreateImageCommand).rejects(awsError('InvalidAMIName.Duplicate'));
    ec2Mock.on(DescribeImagesCommand).resolves({ Images: [] });

    // Act
    const result = createImage(input, deps);

    // Assess
    await expect(result).rejects.toBeInstanceOf(ImageNotYetVisibleError);
    await expect(result).rejects.toThrow('web-20261126-044742-0001abcd');
    expect(waits.length).toBeGreaterThan(1);
    expect(waits.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(30_000);
  });

  it('rethrows the duplicate-name error when the image of that name is not this bake’s', async () => {
    // Prepare
    ec2Mock.on(CreateImageCommand).rejects(awsError('InvalidAMIName.Duplicate'));
    ec2Mock.on(DescribeImagesCommand).resolves({
      Images: [
        {
          ImageId: 'ami-0someoneelse0001',
          Tags: [{ Key: 'ami-bake:bake-id', Value: 'bake-someone-else-0001' }],
        },
      ],
    });

    // Act / Assess
    await expect(createImage(input, deps)).rejects.toMatchObject({ name: 'InvalidAMIName.Duplicate' });
    expect(waits).toEqual([]);
  });

  it('rethrows any other EC2 error without looking for an earlier image', async () => {
    // Prepare
    ec2Mock.on(CreateImageCommand).rejects(awsError('IncorrectInstanceState'));

    // Act / Assess
    await expect(createImage(input, deps)).rejects.toMatchObject({ name: 'IncorrectInstanceState' });
    expect(ec2Mock).not.toHaveReceivedCommand(DescribeImagesCommand);
  });
});
