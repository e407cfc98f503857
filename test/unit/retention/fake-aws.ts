import {
  DescribeAutoScalingGroupsCommand,
  DescribeLaunchConfigurationsCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplateVersionsCommand,
  type Filter,
  type Tag,
} from '@aws-sdk/client-ec2';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import type { RetentionDeps } from '../../../lib/retention/core.js';
import { awsError } from '../functions/fixtures.js';

/**
 * A small stateful AWS for retention, one world per region: images with tags, dates, states and
 * snapshots; instances; launch templates with default and latest versions; Auto Scaling groups and
 * launch configurations; parameters. Deregistering and deleting really change what a later describe
 * sees. Unknown commands and filters throw, so a test cannot pass by accident.
 */
export interface World {
  images: {
    id: string;
    tags: Tag[];
    architecture?: string;
    created: string;
    state?: string;
    snapshotIds: string[];
    protection?: string;
  }[];
  snapshots: string[];
  instances: { id: string; imageId: string; state: string; tags?: Tag[] }[];
  templates: { id: string; name: string; versions: string[]; defaultVersion: number }[];
  groups: {
    name: string;
    launchConfiguration?: string;
    launchTemplate?: { id: string; version: string };
  }[];
  launchConfigurations: { name: string; imageId: string }[];
  parameters: Record<string, string>;
  /** A service whose every call fails, as a region where a permission is missing. */
  broken?: 'ec2' | 'autoscaling' | 'ssm';
}

export const STACK = 'ami-bake-test';
export const RECIPE = 'web';

export const emptyWorld = (): World => ({
  images: [],
  snapshots: [],
  instances: [],
  templates: [],
  groups: [],
  launchConfigurations: [],
  parameters: {},
});

export const lineage = (bakeId: string, recipe = RECIPE, stack = STACK): Tag[] => [
  { Key: 'ami-bake:stack', Value: stack },
  { Key: 'ami-bake:recipe', Value: recipe },
  { Key: 'ami-bake:bake-id', Value: bakeId },
];

/** Bake `n` made `ami-<region-initial><n>` with snapshot `snap-<...>` at minute n. */
export function bake(
  world: World,
  region: string,
  n: number,
  options: {
    architecture?: string;
    recipe?: string;
    stack?: string;
    state?: string;
    protection?: string;
  } = {},
): string {
  const id = imageOf(region, n, options.architecture);
  world.images.push({
    id,
    tags: lineage(`bake-${String(n).padStart(4, '0')}`, options.recipe, options.stack),
    architecture: options.architecture ?? 'x86_64',
    created: `2026-11-26T12:${String(n).padStart(2, '0')}:00.000Z`,
    state: options.state ?? 'available',
    snapshotIds: [`snap-${id.slice(4)}`],
    protection: options.protection,
  });
  world.snapshots.push(`snap-${id.slice(4)}`);
  return id;
}

export const imageOf = (region: string, n: number, architecture = 'x86_64') =>
  `ami-${region.split('-')[0]}${architecture === 'arm64' ? 'a' : ''}${n}`;

function tagFilter(tags: Tag[], f: Filter): boolean {
  return tags.some((t) => `tag:${t.Key}` === f.Name && f.Values?.includes(t.Value ?? ''));
}

export function fakeAws(worlds: Record<string, World>) {
  const mutations: string[] = [];
  const world = (region: string): World => {
    const w = worlds[region];
    if (!w) throw new Error(`test asked for a client in unexpected region ${region}`);
    return w;
  };
  const client = (service: World['broken'], region: string, handle: (w: World, c: object) => unknown) => ({
    send: (async (command: object) => {
      const w = world(region);
      if (w.broken === service) throw awsError('AccessDeniedException', `${service} denied in ${region}`);
      return handle(w, command);
    }) as never,
  });
  const deps: RetentionDeps = {
    ec2: (region) => client('ec2', region, (w, c) => ec2(w, c, region, mutations)),
    autoScaling: (region) => client('autoscaling', region, autoScaling),
    ssm: (region) => client('ssm', region, ssm),
    now: () => new Date('2026-11-27T00:00:00.000Z'),
  };
  return { deps, mutations };
}

function ec2(w: World, c: object, region: string, mutations: string[]): unknown {
  if (c instanceof DescribeImagesCommand) {
    const filters = c.input.Filters ?? [];
    for (const f of filters) if (!f.Name?.startsWith('tag:')) throw new Error(`unknown filter ${f.Name}`);
    return {
      Images: w.images
        .filter((i) => filters.every((f) => tagFilter(i.tags, f)))
        .map((i) => ({
          ImageId: i.id,
          Tags: i.tags,
          Architecture: i.architecture,
          CreationDate: i.created,
          State: i.state,
          DeregistrationProtection: i.protection ?? 'disabled',
          BlockDeviceMappings: i.snapshotIds.map((SnapshotId) => ({
            DeviceName: '/dev/xvda',
            Ebs: { SnapshotId },
          })),
        })),
    };
  }
  if (c instanceof DescribeInstancesCommand) {
    const instances = w.instances.filter((i) =>
      (c.input.Filters ?? []).every((f) => {
        if (f.Name === 'instance-state-name') return f.Values?.includes(i.state);
        if (f.Name === 'image-id') return f.Values?.includes(i.imageId);
        if (f.Name?.startsWith('tag:')) return tagFilter(i.tags ?? [], f);
        throw new Error(`unknown filter ${f.Name}`);
      }),
    );
    return {
      Reservations: [
        {
          Instances: instances.map((i) => ({
            InstanceId: i.id,
            ImageId: i.imageId,
            State: { Name: i.state },
            Tags: i.tags,
          })),
        },
      ],
    };
  }
  if (c instanceof DescribeLaunchTemplateVersionsCommand) {
    const { LaunchTemplateId, Versions = [] } = c.input;
    const versionsOf = (t: World['templates'][number]) =>
      LaunchTemplateId
        ? Versions.map(Number)
        : // As EC2 answers: one entry per version asked for, so a default that is also the latest comes twice.
          Versions.map((v) => (v === '$Latest' ? t.versions.length : t.defaultVersion));
    return {
      LaunchTemplateVersions: w.templates
        .filter((t) => !LaunchTemplateId || t.id === LaunchTemplateId)
        .flatMap((t) =>
          versionsOf(t).map((n) => ({
            LaunchTemplateId: t.id,
            LaunchTemplateName: t.name,
            VersionNumber: n,
            DefaultVersion: n === t.defaultVersion,
            LaunchTemplateData: { ImageId: t.versions[n - 1] },
          })),
        ),
    };
  }
  if (c instanceof DeregisterImageCommand) {
    mutations.push(`${region} DeregisterImage ${c.input.ImageId}`);
    const image = w.images.find((i) => i.id === c.input.ImageId);
    if (!image) throw awsError('InvalidAMIID.NotFound', `${c.input.ImageId} not found`);
    w.images = w.images.filter((i) => i !== image);
    return {};
  }
  if (c instanceof DeleteSnapshotCommand) {
    mutations.push(`${region} DeleteSnapshot ${c.input.SnapshotId}`);
    if (!w.snapshots.includes(c.input.SnapshotId ?? ''))
      throw awsError('InvalidSnapshot.NotFound', `${c.input.SnapshotId} not found`);
    w.snapshots = w.snapshots.filter((s) => s !== c.input.SnapshotId);
    return {};
  }
  throw new Error(`the fake EC2 does not know ${c.constructor.name}`);
}

function autoScaling(w: World, c: object): unknown {
  if (c instanceof DescribeAutoScalingGroupsCommand)
    return {
      AutoScalingGroups: w.groups.map((g) => ({
        AutoScalingGroupName: g.name,
        LaunchConfigurationName: g.launchConfiguration,
        LaunchTemplate: g.launchTemplate
          ? { LaunchTemplateId: g.launchTemplate.id, Version: g.launchTemplate.version }
          : undefined,
      })),
    };
  if (c instanceof DescribeLaunchConfigurationsCommand)
    return {
      LaunchConfigurations: w.launchConfigurations.map((l) => ({
        LaunchConfigurationName: l.name,
        ImageId: l.imageId,
      })),
    };
  throw new Error(`the fake Auto Scaling does not know ${c.constructor.name}`);
}

function ssm(w: World, c: object): unknown {
  if (c instanceof GetParameterCommand) {
    const value = w.parameters[c.input.Name ?? ''];
    if (value === undefined) throw awsError('ParameterNotFound', `${c.input.Name}`);
    return { Parameter: { Name: c.input.Name, Value: value } };
  }
  throw new Error(`the fake SSM does not know ${c.constructor.name}`);
}
