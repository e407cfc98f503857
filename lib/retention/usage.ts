import {
  type AutoScalingGroup,
  DescribeAutoScalingGroupsCommand,
  DescribeLaunchConfigurationsCommand,
  type LaunchTemplateSpecification,
} from '@aws-sdk/client-auto-scaling';
import {
  DescribeInstancesCommand,
  DescribeLaunchTemplateVersionsCommand,
  type LaunchTemplateVersion,
} from '@aws-sdk/client-ec2';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import type { AutoScalingSend } from '../aws/autoscaling.js';
import type { Ec2Send } from '../aws/ec2.js';
import { pages } from '../aws/pages.js';
import type { SsmSend } from '../aws/ssm.js';
import { ARCHITECTURE_TOKEN } from '../recipe/schema.js';
import { LIVE_STATES } from './inventory.js';
import type { Reason } from './plan.js';

export interface UsageClients {
  ec2: Ec2Send;
  autoScaling: AutoScalingSend;
  ssm: SsmSend;
}

/** EC2 takes at most 200 values in one filter. */
const FILTER_VALUES = 200;

/**
 * What in one region still uses any of `images`: each image id that is in use, with every use
 * found. Nothing here changes anything; a lookup that fails throws, and the caller keeps every
 * image of the region (a use it cannot see is still a use).
 */
export async function usesOf(
  images: readonly { imageId: string; architecture: string }[],
  ssmParameter: string | undefined,
  clients: UsageClients,
): Promise<Map<string, Reason[]>> {
  const ids = new Set(images.map((i) => i.imageId));
  const uses = new Map<string, Reason[]>();
  const add = (imageId: string | undefined, reason: Reason) => {
    if (imageId && ids.has(imageId)) uses.set(imageId, [...(uses.get(imageId) ?? []), reason]);
  };
  if (ids.size === 0) return uses;
  const architectures = [...new Set(images.map((i) => i.architecture))];
  await Promise.all([
    instances([...ids], clients.ec2, add),
    launchTemplates(clients.ec2, add),
    autoScaling(clients, add),
    parameters(ssmParameter, architectures, clients.ssm, add),
  ]);
  return uses;
}

type Add = (imageId: string | undefined, reason: Reason) => void;

async function instances(ids: string[], ec2: Ec2Send, add: Add): Promise<void> {
  for (let i = 0; i < ids.length; i += FILTER_VALUES) {
    const found = await pages(async (NextToken) => {
      const page = await ec2.send(
        new DescribeInstancesCommand({
          Filters: [
            { Name: 'image-id', Values: ids.slice(i, i + FILTER_VALUES) },
            { Name: 'instance-state-name', Values: LIVE_STATES },
          ],
          NextToken,
        }),
      );
      return { items: (page.Reservations ?? []).flatMap((r) => r.Instances ?? []), next: page.NextToken };
    });
    for (const instance of found)
      add(instance.ImageId, {
        kind: 'instance',
        detail: `instance ${instance.InstanceId} (${instance.State?.Name ?? 'state unknown'})`,
      });
  }
}

/**
 * The default and latest version of every launch template in the region, in one paged call
 * (DescribeLaunchTemplateVersions without a template, Versions $Latest and $Default). ResolveAlias
 * turns an image id given as `resolve:ssm:<parameter>` into the image it names now.
 */
async function launchTemplates(ec2: Ec2Send, add: Add): Promise<void> {
  const versions = await pages(async (NextToken) => {
    const page = await ec2.send(
      new DescribeLaunchTemplateVersionsCommand({
        Versions: ['$Latest', '$Default'],
        ResolveAlias: true,
        MaxResults: 200,
        NextToken,
      }),
    );
    return { items: page.LaunchTemplateVersions ?? [], next: page.NextToken };
  });
  // A template whose default version is its latest comes back twice: one use, not two.
  const unique = new Map(versions.map((v) => [`${v.LaunchTemplateId} ${v.VersionNumber}`, v]));
  for (const v of unique.values())
    add(v.LaunchTemplateData?.ImageId, {
      kind: 'launch-template',
      detail: `launch template ${templateName(v)} version ${v.VersionNumber}${v.DefaultVersion ? ' (default)' : ' (latest)'}`,
    });
}

/**
 * Launch configurations naming the image, whether or not a group uses them now (one can be
 * attached at any time), and groups that pin a launch template version by number (a group on
 * $Default or $Latest is covered by the launch templates above).
 */
async function autoScaling(clients: UsageClients, add: Add): Promise<void> {
  const [groups, configurations] = await Promise.all([
    pages(async (NextToken) => {
      const page = await clients.autoScaling.send(
        new DescribeAutoScalingGroupsCommand({ MaxRecords: 100, NextToken }),
      );
      return { items: page.AutoScalingGroups ?? [], next: page.NextToken };
    }),
    pages(async (NextToken) => {
      const page = await clients.autoScaling.send(
        new DescribeLaunchConfigurationsCommand({ MaxRecords: 100, NextToken }),
      );
      return { items: page.LaunchConfigurations ?? [], next: page.NextToken };
    }),
  ]);
  for (const c of configurations) {
    const users = groups.filter((g) => g.LaunchConfigurationName === c.LaunchConfigurationName);
    add(c.ImageId, {
      kind: 'launch-configuration',
      detail: `launch configuration ${c.LaunchConfigurationName}${users.length > 0 ? ` of group ${users.map((g) => g.AutoScalingGroupName).join(', ')}` : ' (no group uses it now)'}`,
    });
  }
  const pinned = new Map<string, { spec: LaunchTemplateSpecification; groups: string[] }>();
  for (const group of groups) {
    for (const spec of templatesOf(group)) {
      if (!/^\d+$/.test(spec.Version ?? '')) continue;
      const key = `${spec.LaunchTemplateId ?? spec.LaunchTemplateName} ${spec.Version}`;
      const entry = pinned.get(key) ?? { spec, groups: [] };
      entry.groups.push(group.AutoScalingGroupName ?? '');
      pinned.set(key, entry);
    }
  }
  for (const { spec, groups: names } of pinned.values()) {
    const { LaunchTemplateVersions = [] } = await clients.ec2.send(
      new DescribeLaunchTemplateVersionsCommand({
        ...(spec.LaunchTemplateId
          ? { LaunchTemplateId: spec.LaunchTemplateId }
          : { LaunchTemplateName: spec.LaunchTemplateName }),
        Versions: [spec.Version ?? ''],
        ResolveAlias: true,
      }),
    );
    for (const v of LaunchTemplateVersions)
      add(v.LaunchTemplateData?.ImageId, {
        kind: 'auto-scaling-group',
        detail: `group ${names.join(', ')}: launch template ${templateName(v)} version ${v.VersionNumber}`,
      });
  }
}

function templatesOf(group: AutoScalingGroup): LaunchTemplateSpecification[] {
  const mixed = group.MixedInstancesPolicy?.LaunchTemplate;
  return [
    group.LaunchTemplate,
    mixed?.LaunchTemplateSpecification,
    ...(mixed?.Overrides ?? []).map((o) => o.LaunchTemplateSpecification),
  ].filter((s): s is LaunchTemplateSpecification => s !== undefined);
}

/** The recipe's parameter, once per architecture when its name has {architecture}. */
async function parameters(
  name: string | undefined,
  architectures: string[],
  ssm: SsmSend,
  add: Add,
): Promise<void> {
  if (!name) return;
  const names = name.includes(ARCHITECTURE_TOKEN)
    ? architectures.map((a) => name.replaceAll(ARCHITECTURE_TOKEN, a))
    : [name];
  for (const parameter of new Set(names)) {
    try {
      const { Parameter } = await ssm.send(new GetParameterCommand({ Name: parameter }));
      add(Parameter?.Value, { kind: 'ssm-parameter', detail: `parameter ${parameter}` });
    } catch (error) {
      // Not written yet in this region (no bake reached DistributeImage here): nothing uses it.
      if ((error as Error).name !== 'ParameterNotFound') throw error;
    }
  }
}

function templateName(v: LaunchTemplateVersion): string {
  return `${v.LaunchTemplateName ?? ''} (${v.LaunchTemplateId ?? ''})`;
}
