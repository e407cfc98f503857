import {
  CopyImageCommand,
  DescribeImageAttributeCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  type EC2Client,
  type LaunchPermission,
  ModifyImageAttributeCommand,
} from '@aws-sdk/client-ec2';
import { beforeEach, describe, expect, it } from 'vitest';
import { ec2Via, errorOf, imageOf, launch, useLayer } from './helpers.js';

const { layer, moto } = useLayer();

beforeEach(() => {
  layer().setProfile('instant');
});

/** A customer-managed key in moto's KMS (there is no KMS client among the dependencies). */
async function customerKey(region: string): Promise<string> {
  const response = await fetch(moto(), {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'TrentService.CreateKey',
      authorization: `AWS4-HMAC-SHA256 Credential=test/20260101/${region}/kms/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify({ Description: 'ami-bake test key' }),
  });
  const { KeyMetadata } = (await response.json()) as { KeyMetadata: { Arn: string } };
  return KeyMetadata.Arn;
}

/** An image of an instance whose root volume is encrypted (with this key, or the default). */
async function encryptedImage(ec2: EC2Client, kmsKeyId?: string): Promise<string> {
  const instance = await launch(ec2, {
    BlockDeviceMappings: [
      { DeviceName: '/dev/xvda', Ebs: { VolumeSize: 8, Encrypted: true, KmsKeyId: kmsKeyId } },
    ],
  });
  return imageOf(ec2, instance, `encrypted-${Date.now()}-${Math.random()}`);
}

const share = (ec2: EC2Client, imageId: string, permission: LaunchPermission) =>
  ec2.send(
    new ModifyImageAttributeCommand({
      ImageId: imageId,
      Attribute: 'launchPermission',
      LaunchPermission: { Add: [permission] },
    }),
  );

async function snapshotOf(ec2: EC2Client, imageId: string) {
  const { Images = [] } = await ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
  const ebs = Images[0]?.BlockDeviceMappings?.[0]?.Ebs;
  const { Snapshots = [] } = await ec2.send(
    new DescribeSnapshotsCommand({ SnapshotIds: [ebs?.SnapshotId ?? ''] }),
  );
  return { ebs, snapshot: Snapshots[0] };
}

describe('sharing encrypted images', () => {
  it.each([
    ['the default key', undefined],
    ['alias/aws/ebs', 'alias/aws/ebs'],
  ])('refuses to share an image whose snapshots use the AWS-managed EBS key (%s)', async (_, kmsKeyId) => {
    const ec2 = ec2Via(layer().endpoint);
    const imageId = await encryptedImage(ec2, kmsKeyId);

    expect((await snapshotOf(ec2, imageId)).snapshot?.Encrypted).toBe(true);
    const permissions: LaunchPermission[] = [
      { UserId: '111122223333' },
      { OrganizationArn: 'arn:aws:organizations::123456789012:organization/o-abcdefghij' },
      { OrganizationalUnitArn: 'arn:aws:organizations::123456789012:ou/o-abcdefghij/ou-ab12-cdef3456' },
    ];
    for (const permission of permissions) {
      expect(await errorOf(share(ec2, imageId, permission))).toEqual({
        name: 'InvalidParameter',
        status: 400,
      });
    }
  });

  it('shares an image encrypted with a customer-managed key', async () => {
    const ec2 = ec2Via(layer().endpoint);
    const imageId = await encryptedImage(ec2, await customerKey('us-east-1'));

    await share(ec2, imageId, { UserId: '111122223333' });

    const { LaunchPermissions } = await ec2Via(moto()).send(
      new DescribeImageAttributeCommand({ ImageId: imageId, Attribute: 'launchPermission' }),
    );
    expect(LaunchPermissions).toEqual([{ UserId: '111122223333' }]);
  });

  it('never makes an encrypted image public', async () => {
    const ec2 = ec2Via(layer().endpoint);
    const imageId = await encryptedImage(ec2, await customerKey('us-east-1'));

    expect(await errorOf(share(ec2, imageId, { Group: 'all' }))).toEqual({
      name: 'UnsupportedOperation',
      status: 400,
    });
  });

  it('reports the key a CopyImage asked for (moto ignores it) and lets that copy be shared', async () => {
    const ec2 = ec2Via(layer().endpoint);
    const source = await encryptedImage(ec2);
    const target = ec2Via(layer().endpoint, 'eu-west-1');
    const key = await customerKey('eu-west-1');

    const { ImageId = '' } = await target.send(
      new CopyImageCommand({
        SourceImageId: source,
        SourceRegion: 'us-east-1',
        Name: `copy-${Date.now()}`,
        Encrypted: true,
        KmsKeyId: key,
      }),
    );

    const { ebs, snapshot } = await snapshotOf(target, ImageId);
    expect(ebs).toMatchObject({ Encrypted: true, KmsKeyId: key });
    expect(snapshot).toMatchObject({ Encrypted: true, KmsKeyId: key });
    await share(target, ImageId, { UserId: '111122223333' });
    expect(await errorOf(share(ec2, source, { UserId: '111122223333' }))).toMatchObject({
      name: 'InvalidParameter',
    });
  });

  it('shares an unencrypted image as before', async () => {
    const ec2 = ec2Via(layer().endpoint);
    const imageId = await imageOf(ec2, await launch(ec2), `plain-${Date.now()}`);

    await share(ec2, imageId, { UserId: '111122223333' });
  });
});
