import {
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  EC2Client,
  type Image,
  type Snapshot,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll } from 'vitest';
import { parseRecipe } from '../../lib/recipe/load.js';
import type { ResolvedRecipe } from '../../lib/state.js';
import { type RunningEmulator, startEmulator } from '../../local/emulator.js';

/** One emulator per test file (files run in their own processes), stopped after the file. */
export function useEmulator(): { endpoint: () => string } {
  let emulator: RunningEmulator | undefined;
  beforeAll(async () => {
    emulator = await startEmulator();
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: emulator.endpoint,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: 'us-east-1',
    });
  });
  afterAll(async () => {
    await emulator?.stop();
  });
  return { endpoint: () => emulator?.endpoint ?? '' };
}

export const ACCOUNT = '123456789012';

export function ec2(region: string) {
  return new EC2Client({ region, maxAttempts: 1 });
}

/** What the account owns in a region: compared before and after a bake to prove nothing leaked. */
export interface Inventory {
  liveInstances: string[];
  images: Image[];
  snapshots: Snapshot[];
  volumes: string[];
}

export async function inventory(region: string): Promise<Inventory> {
  const client = ec2(region);
  const { Reservations = [] } = await client.send(
    new DescribeInstancesCommand({
      Filters: [{ Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] }],
    }),
  );
  const { Images = [] } = await client.send(new DescribeImagesCommand({ Owners: ['self'] }));
  // DescribeSnapshots ignores OwnerIds in moto; the owner-id filter works in both.
  const { Snapshots = [] } = await client.send(
    new DescribeSnapshotsCommand({ Filters: [{ Name: 'owner-id', Values: [ACCOUNT] }] }),
  );
  const { Volumes = [] } = await client.send(new DescribeVolumesCommand({}));
  return {
    liveInstances: Reservations.flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId ?? ''),
    images: Images,
    snapshots: Snapshots,
    volumes: Volumes.filter((v) => v.State !== 'deleted').map((v) => v.VolumeId ?? ''),
  };
}

export async function inventories(regions: string[]): Promise<Record<string, Inventory>> {
  return Object.fromEntries(await Promise.all(regions.map(async (r) => [r, await inventory(r)] as const)));
}

/** Ids present after but not before. */
export function added(before: Inventory, after: Inventory) {
  const diff = (a: string[], b: string[]) => b.filter((x) => !a.includes(x));
  return {
    liveInstances: diff(before.liveInstances, after.liveInstances),
    images: diff(
      before.images.map((i) => i.ImageId ?? ''),
      after.images.map((i) => i.ImageId ?? ''),
    ),
    snapshots: diff(
      before.snapshots.map((s) => s.SnapshotId ?? ''),
      after.snapshots.map((s) => s.SnapshotId ?? ''),
    ),
    volumes: diff(before.volumes, after.volumes),
  };
}

export function tagsOf(
  resource: { Tags?: { Key?: string; Value?: string }[] } | undefined,
): Record<string, string> {
  return Object.fromEntries((resource?.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
}

export async function recipe(overrides: Record<string, unknown> = {}): Promise<ResolvedRecipe> {
  const raw = {
    name: 'e2e-web',
    base: { ssmParameter: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64' },
    builder: { instanceType: 't3.micro', tags: { team: 'platform' } },
    bootstrap: {
      platform: 'linux',
      script: '#!/bin/bash\nset -euo pipefail\necho hello > /etc/motd\n',
      timeoutMinutes: 5,
    },
    image: { tags: { os: 'al2023' }, snapshotTags: { backup: 'none' } },
    distribution: {
      regions: ['us-east-1', 'eu-west-1', 'ap-southeast-2'],
      // Shared encrypted images need a customer-managed key per region; the local run creates them.
      kmsKeyIds: {
        'us-east-1': 'alias/ami-bake',
        'eu-west-1': 'alias/ami-bake',
        'ap-southeast-2': 'alias/ami-bake',
      },
      launchPermissions: {
        accounts: ['111122223333'],
        organizations: ['arn:aws:organizations::123456789012:organization/o-abcdefghij'],
      },
    },
    ...overrides,
  };
  const loaded = await parseRecipe(raw, process.cwd());
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  return loaded.recipe;
}
