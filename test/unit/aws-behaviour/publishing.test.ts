import {
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  DeleteLaunchTemplateVersionsCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeSnapshotsCommand,
  DisableImageDeregistrationProtectionCommand,
  type EC2Client,
  EnableImageDeprecationCommand,
  EnableImageDeregistrationProtectionCommand,
  ModifySnapshotAttributeCommand,
} from '@aws-sdk/client-ec2';
import { beforeEach, describe, expect, it } from 'vitest';
import { baseImage, ec2Via, errorOf, imageOf, launch, useLayer } from './helpers.js';

const { layer } = useLayer();

beforeEach(() => {
  layer().setProfile('instant');
});

async function newImage(ec2: EC2Client, volumes = {}): Promise<string> {
  const instance = await launch(ec2, volumes);
  return imageOf(ec2, instance, `publishing-${Date.now()}-${Math.random()}`);
}

async function described(ec2: EC2Client, imageId: string) {
  const { Images = [] } = await ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
  return Images[0];
}

describe('image deprecation (moto answers EnableImageDeprecation with 500)', () => {
  it('shows the deprecation time in DescribeImages, its seconds rounded to the nearest minute', async () => {
    const ec2 = ec2Via(layer().endpoint);
    const imageId = await newImage(ec2);
    const at = new Date(Date.now() + 30 * 86_400_000);
    at.setUTCSeconds(40, 0);

    await ec2.send(new EnableImageDeprecationCommand({ ImageId: imageId, DeprecateAt: at }));

    const rounded = new Date(Math.round(at.getTime() / 60_000) * 60_000);
    expect((await described(ec2, imageId))?.DeprecationTime).toBe(
      rounded.toISOString().replace('.000Z', 'Z'),
    );
  });

  it('refuses a time in the past, more than 10 years ahead, or an image EC2 does not know', async () => {
    const ec2 = ec2Via(layer().endpoint);
    const imageId = await newImage(ec2);
    const deprecate = (ImageId: string, days: number) =>
      ec2.send(
        new EnableImageDeprecationCommand({ ImageId, DeprecateAt: new Date(Date.now() + days * 86_400_000) }),
      );

    expect(await errorOf(deprecate(imageId, -1))).toEqual({ name: 'InvalidParameterValue', status: 400 });
    expect(await errorOf(deprecate(imageId, 3700))).toEqual({ name: 'InvalidParameterValue', status: 400 });
    expect(await errorOf(deprecate('ami-0000000000000dead', 10))).toEqual({
      name: 'InvalidAMIID.NotFound',
      status: 400,
    });
    expect((await described(ec2, imageId))?.DeprecationTime).toBeUndefined();
  });
});

describe('deregistration protection (moto does not know it)', () => {
  it('refuses to deregister a protected image until the protection is disabled', async () => {
    const ec2 = ec2Via(layer().endpoint);
    const imageId = await newImage(ec2);

    await ec2.send(new EnableImageDeregistrationProtectionCommand({ ImageId: imageId }));

    expect((await described(ec2, imageId))?.DeregistrationProtection).toBe('enabled-without-cooldown');
    expect(await errorOf(ec2.send(new DeregisterImageCommand({ ImageId: imageId })))).toEqual({
      name: 'OperationNotPermitted',
      status: 400,
    });
    await ec2.send(new DisableImageDeregistrationProtectionCommand({ ImageId: imageId }));
    expect((await described(ec2, imageId))?.DeregistrationProtection).toBe('disabled');
    await ec2.send(new DeregisterImageCommand({ ImageId: imageId }));
    expect(await described(ec2, imageId)).toBeUndefined();
  });

  it('keeps an image enabled with a cooldown protected for 24 hours after it is disabled', async () => {
    const ec2 = ec2Via(layer().endpoint);
    const imageId = await newImage(ec2);

    await ec2.send(new EnableImageDeregistrationProtectionCommand({ ImageId: imageId, WithCooldown: true }));
    await ec2.send(new DisableImageDeregistrationProtectionCommand({ ImageId: imageId }));

    expect((await described(ec2, imageId))?.DeregistrationProtection).toMatch(/^disabled-until /);
    expect(await errorOf(ec2.send(new DeregisterImageCommand({ ImageId: imageId })))).toEqual({
      name: 'OperationNotPermitted',
      status: 400,
    });
  });
});

describe('snapshot create-volume permission', () => {
  it('refuses to share a snapshot encrypted with the AWS managed key, as for the image', async () => {
    const ec2 = ec2Via(layer().endpoint);
    const imageId = await newImage(ec2, {
      BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 8, Encrypted: true } }],
    });
    const snapshotId = (await described(ec2, imageId))?.BlockDeviceMappings?.[0]?.Ebs?.SnapshotId ?? '';
    const { Snapshots = [] } = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }));
    expect(Snapshots[0]?.Encrypted).toBe(true);

    const share = ec2.send(
      new ModifySnapshotAttributeCommand({
        SnapshotId: snapshotId,
        Attribute: 'createVolumePermission',
        OperationType: 'add',
        UserIds: ['111122223333'],
      }),
    );

    expect(await errorOf(share)).toEqual({ name: 'InvalidParameter', status: 400 });
  });
});

describe('launch template versions (moto lacks DeleteLaunchTemplateVersions)', () => {
  it('deletes a version, leaves it out of DescribeLaunchTemplateVersions, and never deletes the default', async () => {
    const ec2 = ec2Via(layer().endpoint);
    const name = `lt-${Date.now()}`;
    const ImageId = await baseImage(ec2);
    await ec2.send(
      new CreateLaunchTemplateCommand({ LaunchTemplateName: name, LaunchTemplateData: { ImageId } }),
    );
    await ec2.send(
      new CreateLaunchTemplateVersionCommand({ LaunchTemplateName: name, LaunchTemplateData: { ImageId } }),
    );

    const answer = await ec2.send(
      new DeleteLaunchTemplateVersionsCommand({ LaunchTemplateName: name, Versions: ['2', '1'] }),
    );

    expect(answer.SuccessfullyDeletedLaunchTemplateVersions?.map((v) => v.VersionNumber)).toEqual([2]);
    expect(answer.UnsuccessfullyDeletedLaunchTemplateVersions?.map((v) => v.VersionNumber)).toEqual([1]);
    const { LaunchTemplateVersions = [] } = await ec2.send(
      new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: name }),
    );
    expect(LaunchTemplateVersions.map((v) => v.VersionNumber)).toEqual([1]);
  });
});
