import type { Image } from '@aws-sdk/client-ec2';

/**
 * The EBS snapshots behind an image, in the order of its block device mappings. Instance-store
 * and ephemeral mappings have none; a deregistered image has no mappings left at all.
 */
export function snapshotIdsOf(image: Pick<Image, 'BlockDeviceMappings'>): string[] {
  return (image.BlockDeviceMappings ?? []).flatMap((m) => (m.Ebs?.SnapshotId ? [m.Ebs.SnapshotId] : []));
}
