import {
  DescribeInstanceTypeOfferingsCommand,
  DescribeInstanceTypesCommand,
  GetInstanceTypesFromInstanceRequirementsCommand,
  type InstanceTypeInfo,
} from '@aws-sdk/client-ec2';
import type { Ec2Send } from '../../lib/aws/ec2.js';
import type { Problem } from '../../lib/problems.js';
import type { Architecture, Recipe } from '../../lib/recipe/schema.js';

type Requirements = NonNullable<Recipe['builder']['requirements']>;

/** What the sizing of a recipe with `builder.requirements` found: every fitting type, cheapest first. */
export interface Fitting {
  architecture: Architecture;
  /** Every type EC2 says fits, in launch order (cheapest first); not yet narrowed to a zone. */
  ordered: string[];
  problems: Problem[];
}

const PATH = 'builder.requirements';

/**
 * The types that meet the requirements, cheapest first. EC2's attribute-based lookup answers
 * names only, so their sizes come from DescribeInstanceTypes (100 names a call).
 */
export async function fittingTypes(
  requirements: Requirements,
  architecture: Architecture,
  ec2: Ec2Send,
): Promise<Fitting> {
  const names: string[] = [];
  let NextToken: string | undefined;
  do {
    const page = await ec2.send(
      new GetInstanceTypesFromInstanceRequirementsCommand({
        ArchitectureTypes: [architecture],
        VirtualizationTypes: ['hvm'],
        InstanceRequirements: {
          VCpuCount: { Min: requirements.vCpus.min, Max: requirements.vCpus.max },
          MemoryMiB: { Min: mib(requirements.memoryGiB.min), Max: mib(requirements.memoryGiB.max) },
          BurstablePerformance: requirements.burstable,
          InstanceGenerations: requirements.instanceGenerations,
          AllowedInstanceTypes: requirements.allowedInstanceTypes,
          ExcludedInstanceTypes: requirements.excludedInstanceTypes,
        },
        NextToken,
      }),
    );
    names.push(...(page.InstanceTypes ?? []).flatMap((t) => (t.InstanceType ? [t.InstanceType] : [])));
    NextToken = page.NextToken;
  } while (NextToken);
  if (names.length === 0) {
    return {
      architecture,
      ordered: [],
      problems: [{ path: PATH, message: `no ${architecture} instance type meets ${describe(requirements)}` }],
    };
  }
  const infos: InstanceTypeInfo[] = [];
  for (let i = 0; i < names.length; i += 100) {
    const { InstanceTypes = [] } = await ec2.send(
      new DescribeInstanceTypesCommand({ InstanceTypes: names.slice(i, i + 100) as never[] }),
    );
    infos.push(...InstanceTypes);
  }
  return { architecture, ordered: cheapestFirst(infos), problems: [] };
}

/**
 * The fitting types the zone offers, in order, at most `maxCandidates`: EC2 refuses a launch of a
 * type the subnet's zone does not offer (Unsupported), so those are never tried.
 */
export async function offeredIn(
  zone: string,
  fitting: Fitting,
  requirements: Requirements,
  ec2: Ec2Send,
): Promise<{ instanceTypes: string[]; problems: Problem[] }> {
  if (fitting.problems.length > 0) return { instanceTypes: [], problems: fitting.problems };
  const offered = new Set<string>();
  let NextToken: string | undefined;
  do {
    const page = await ec2.send(
      new DescribeInstanceTypeOfferingsCommand({
        LocationType: 'availability-zone',
        Filters: [{ Name: 'location', Values: [zone] }],
        MaxResults: 1000,
        NextToken,
      }),
    );
    for (const o of page.InstanceTypeOfferings ?? []) if (o.InstanceType) offered.add(o.InstanceType);
    NextToken = page.NextToken;
  } while (NextToken);
  const instanceTypes = fitting.ordered.filter((t) => offered.has(t)).slice(0, requirements.maxCandidates);
  if (instanceTypes.length > 0) return { instanceTypes, problems: [] };
  return {
    instanceTypes,
    problems: [
      {
        path: PATH,
        message: `${fitting.ordered.length} ${fitting.architecture} types meet ${describe(requirements)}, but ${zone} (the builder's subnet's zone) offers none of them: widen the requirements or choose another subnet`,
      },
    ],
  };
}

/**
 * Launch order: estimated on-demand price, cheapest first. No price source works in every fresh
 * account without setup (the Price List API needs pricing:GetProducts and answers only from
 * us-east-1, eu-central-1 and ap-south-1; a price table goes stale), so the estimate is a line
 * fitted to us-east-1 Linux list prices of the general-purpose and compute families (c7i.large
 * $0.08925/h, m7i.large $0.1008/h): $0.0389 per vCPU and $0.0029 per GiB an hour. Burstable types
 * cost about a fifth less (t3.large $0.0832 against 0.1008), types with local instance storage
 * more (the disks are billed whether used or not). Ties go to the newer generation (as fast or
 * faster for the same price), then to the name, so the order is the same on every run.
 * docs/recipes.md#builderrequirements says how to pin the choice when the estimate is not enough
 * (docs/decisions/0007-builder-candidates-by-estimated-price.md).
 */
export function cheapestFirst(infos: InstanceTypeInfo[]): string[] {
  return infos
    .flatMap((i) => (i.InstanceType ? [{ name: String(i.InstanceType), cost: estimatedCost(i) }] : []))
    .sort(
      (a, b) =>
        a.cost - b.cost ||
        generation(b.name) - generation(a.name) ||
        (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    )
    .map((c) => c.name);
}

/** Dollars an hour, roughly; only the order matters. Rounded so float noise cannot reorder ties. */
export function estimatedCost(info: InstanceTypeInfo): number {
  const vcpus = info.VCpuInfo?.DefaultVCpus ?? 0;
  const gib = (info.MemoryInfo?.SizeInMiB ?? 0) / 1024;
  let cost = 0.0389 * vcpus + 0.0029 * gib;
  if (info.BurstablePerformanceSupported) cost *= 0.8;
  if (info.InstanceStorageSupported) cost *= 1.15;
  return Math.round(cost * 1e6) / 1e6;
}

/** The generation digit(s) of a type's family: m7i.large → 7. */
function generation(name: string): number {
  return Number(/^[a-z]+(\d+)/.exec(name)?.[1] ?? 0);
}

const mib = (gib: number | undefined) => (gib === undefined ? undefined : Math.round(gib * 1024));

function describe(r: Requirements): string {
  const range = (x: { min: number; max?: number }, unit: string) =>
    x.max === undefined ? `at least ${x.min} ${unit}` : `${x.min}-${x.max} ${unit}`;
  return `${range(r.vCpus, 'vCPUs')} and ${range(r.memoryGiB, 'GiB')} (burstable ${r.burstable}, ${r.instanceGenerations.join('/')} generation)`;
}

/** The candidates ResolveRecipe puts in the context, with any problem that rules every one out. */
export async function sizedCandidates(
  fitting: Fitting,
  requirements: Requirements,
  base: { imageId: string; architecture: Architecture },
  zone: string | undefined,
  ec2: Ec2Send,
): Promise<{ instanceTypes: string[]; problems: Problem[] }> {
  if (requirements.architecture && requirements.architecture !== base.architecture) {
    return {
      instanceTypes: [],
      problems: [
        {
          path: `${PATH}.architecture`,
          message: `is ${requirements.architecture}, but the base image ${base.imageId} is ${base.architecture}`,
        },
      ],
    };
  }
  // No zone: the subnet was not found, which the network check reports.
  if (!zone) return { instanceTypes: [], problems: fitting.problems };
  return offeredIn(zone, fitting, requirements, ec2);
}
