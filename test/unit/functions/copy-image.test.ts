import { CopyImageCommand, CreateTagsCommand } from '@aws-sdk/client-ec2';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { copyImage } from '../../../functions/copy-image/core.js';
import { awsError, BUILD_REGION, context, LINEAGE_TAGS, now, recipe, regionalEc2 } from './fixtures.js';

const { ec2, mock } = regionalEc2([BUILD_REGION, 'eu-west-1', 'ap-southeast-2']);
const deps = { ec2, now };
const image = { imageId: 'ami-0source000000001', region: BUILD_REGION };

beforeEach(() => {
  for (const region of [BUILD_REGION, 'eu-west-1', 'ap-southeast-2']) mock(region).reset();
  mock('eu-west-1').on(CopyImageCommand).resolves({ ImageId: 'ami-0copyeu00000001' });
  mock('ap-southeast-2').on(CopyImageCommand).resolves({ ImageId: 'ami-0copyap00000001' });
});

describe('copyImage', () => {
  it('starts the copy in the target region, from the source region, and returns the copy', async () => {
    // Act
    const result = await copyImage(
      { target: { region: 'eu-west-1' }, context: context(), image, recipe: recipe() },
      deps,
    );

    // Assess
    expect(result).toEqual({
      region: 'eu-west-1',
      imageId: 'ami-0copyeu00000001',
      at: '2026-11-26T04:47:42.123Z',
    });
    expect(mock('eu-west-1')).toHaveReceivedCommandWith(CopyImageCommand, {
      SourceImageId: 'ami-0source000000001',
      SourceRegion: BUILD_REGION,
      Name: 'web-20261126-044742-0001abcd',
    });
    expect(mock(BUILD_REGION)).not.toHaveReceivedAnyCommand();
  });

  it('uses a client token per bake and region, so a retry returns the first copy', async () => {
    // Act
    await copyImage({ target: { region: 'eu-west-1' }, context: context(), image, recipe: recipe() }, deps);
    await copyImage({ target: { region: 'eu-west-1' }, context: context(), image, recipe: recipe() }, deps);
    await copyImage(
      { target: { region: 'ap-southeast-2' }, context: context(), image, recipe: recipe() },
      deps,
    );

    // Assess
    const tokens = (region: string) =>
      mock(region)
        .commandCalls(CopyImageCommand)
        .map((c) => c.args[0].input.ClientToken);
    const [eu, euRetry] = tokens('eu-west-1');
    expect(eu).toMatch(/^ami-bake-[0-9a-f]{40}$/);
    expect(euRetry).toBe(eu);
    expect(tokens('ap-southeast-2')).toHaveLength(1);
    expect(tokens('ap-southeast-2')[0]).not.toBe(eu);
  });

  it("encrypts the copy with the target's KMS key only when one is given", async () => {
    // Act
    await copyImage(
      {
        target: { region: 'ap-southeast-2', kmsKeyId: 'alias/ami' },
        context: context(),
        image,
        recipe: recipe(),
      },
      deps,
    );
    await copyImage({ target: { region: 'eu-west-1' }, context: context(), image, recipe: recipe() }, deps);

    // Assess
    expect(mock('ap-southeast-2')).toHaveReceivedCommandWith(CopyImageCommand, {
      Encrypted: true,
      KmsKeyId: 'alias/ami',
    });
    const plain = mock('eu-west-1').commandCalls(CopyImageCommand)[0]?.args[0].input;
    expect(plain?.Encrypted).toBeUndefined();
    expect(plain?.KmsKeyId).toBeUndefined();
  });

  it('tags the copy and its snapshots at creation with their lineage and source region', async () => {
    // Act
    await copyImage(
      {
        target: { region: 'eu-west-1' },
        context: context(),
        image,
        recipe: recipe({ image: { snapshotTags: { backup: 'none' } } }),
      },
      deps,
    );

    // Assess
    const lineage = [...LINEAGE_TAGS, { Key: 'ami-bake:source-region', Value: BUILD_REGION }];
    expect(mock('eu-west-1')).toHaveReceivedCommandWith(CopyImageCommand, {
      TagSpecifications: [
        { ResourceType: 'image', Tags: expect.arrayContaining(lineage) },
        {
          ResourceType: 'snapshot',
          Tags: expect.arrayContaining([...lineage, { Key: 'backup', Value: 'none' }]),
        },
      ],
    });
  });

  it('marks the copy and its snapshots as tested at creation when the recipe has a test (copies follow the passed test)', async () => {
    // Act
    await copyImage(
      {
        target: { region: 'eu-west-1' },
        context: context({ tests: [{ instanceType: 't3.small' }] }),
        image,
        recipe: recipe(),
      },
      deps,
    );
    await copyImage(
      { target: { region: 'ap-southeast-2' }, context: context(), image, recipe: recipe() },
      deps,
    );

    // Assess
    const tested = { Key: 'ami-bake:tested', Value: 'passed' };
    const specs = (region: string) =>
      mock(region).commandCalls(CopyImageCommand)[0]?.args[0].input.TagSpecifications ?? [];
    expect(
      specs('eu-west-1').map((s) => s.Tags?.some((t) => t.Key === tested.Key && t.Value === tested.Value)),
    ).toEqual([true, true]);
    expect(
      specs('ap-southeast-2')
        .flatMap((s) => s.Tags ?? [])
        .map((t) => t.Key),
    ).not.toContain(tested.Key);
  });

  it("gives the copy the recipe's tags and Name at creation, as the source image has them", async () => {
    // Act
    await copyImage(
      {
        target: { region: 'eu-west-1' },
        context: context(),
        image,
        recipe: recipe({ image: { tags: { team: 'platform', os: 'al2023' } } }),
      },
      deps,
    );

    // Assess
    const spec = mock('eu-west-1')
      .commandCalls(CopyImageCommand)[0]
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

  it('names the target region in the message of any error, keeping its name for Retry and Catch', async () => {
    // Prepare
    mock('ap-southeast-2')
      .on(CopyImageCommand)
      .rejects(awsError('InvalidParameterValue', 'KMS key not usable'));

    // Act
    const result = copyImage(
      { target: { region: 'ap-southeast-2' }, context: context(), image, recipe: recipe() },
      deps,
    );

    // Assess
    await expect(result).rejects.toMatchObject({
      name: 'InvalidParameterValue',
      message: 'copy to ap-southeast-2: KMS key not usable',
    });
  });

  it('does not tag the copy afterwards: right after CopyImage, EC2 may not know the new id yet', async () => {
    // Act
    await copyImage({ target: { region: 'eu-west-1' }, context: context(), image, recipe: recipe() }, deps);

    // Assess
    expect(mock('eu-west-1')).toHaveReceivedCommandTimes(CopyImageCommand, 1);
    expect(mock('eu-west-1')).not.toHaveReceivedCommand(CreateTagsCommand);
  });
});
