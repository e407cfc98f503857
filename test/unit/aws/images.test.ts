import { describe, expect, it } from 'vitest';
import { snapshotIdsOf } from '../../../lib/aws/images.js';

describe('snapshotIdsOf', () => {
  it('reads the EBS snapshots behind an image, in mapping order, skipping mappings without one', () => {
    // Prepare
    const image = {
      BlockDeviceMappings: [
        { DeviceName: '/dev/xvda', Ebs: { SnapshotId: 'snap-root' } },
        { DeviceName: '/dev/sdb', VirtualName: 'ephemeral0' },
        { DeviceName: '/dev/sdc', Ebs: { VolumeSize: 8 } },
        { DeviceName: '/dev/sdd', Ebs: { SnapshotId: 'snap-data' } },
      ],
    };

    // Act
    const ids = snapshotIdsOf(image);

    // Assess
    expect(ids).toEqual(['snap-root', 'snap-data']);
  });

  it('reads none from an image without mappings, as a deregistered one is described', () => {
    expect(snapshotIdsOf({})).toEqual([]);
  });
});
