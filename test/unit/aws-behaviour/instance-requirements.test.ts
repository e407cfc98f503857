import {
  DescribeInstanceTypeOfferingsCommand,
  type EC2Client,
  GetInstanceTypesFromInstanceRequirementsCommand,
  type GetInstanceTypesFromInstanceRequirementsCommandInput,
  type InstanceTypeInfo,
  paginateDescribeInstanceTypes,
} from '@aws-sdk/client-ec2';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ec2Via, errorOf, launch, useLayer } from './helpers.js';

const { layer } = useLayer();
let ec2: EC2Client;
/** moto's own description of every type: the truth the lookup is checked against. */
const described: InstanceTypeInfo[] = [];

beforeAll(async () => {
  ec2 = ec2Via(layer().endpoint);
  for await (const page of paginateDescribeInstanceTypes({ client: ec2 }, {}))
    described.push(...(page.InstanceTypes ?? []));
}, 60_000);

beforeEach(() => {
  layer().clearFaults();
});

type Requirements = GetInstanceTypesFromInstanceRequirementsCommandInput['InstanceRequirements'];

async function fitting(requirements: Requirements, architecture = 'x86_64' as const): Promise<string[]> {
  const names: string[] = [];
  let NextToken: string | undefined;
  do {
    const page = await ec2.send(
      new GetInstanceTypesFromInstanceRequirementsCommand({
        ArchitectureTypes: [architecture],
        VirtualizationTypes: ['hvm'],
        InstanceRequirements: requirements,
        NextToken,
      }),
    );
    names.push(...(page.InstanceTypes ?? []).map((t) => t.InstanceType ?? ''));
    NextToken = page.NextToken;
  } while (NextToken);
  return names;
}

const twoBy8 = { VCpuCount: { Min: 2, Max: 2 }, MemoryMiB: { Min: 8192, Max: 8192 } };

describe('GetInstanceTypesFromInstanceRequirements (moto lacks it; the layer answers from moto data)', () => {
  it('answers exactly the types of the architecture with the vCPUs and memory asked for, burstable excluded by default', async () => {
    // Act
    const found = await fitting(twoBy8);

    // Assess
    const expected = described
      .filter(
        (t) =>
          t.ProcessorInfo?.SupportedArchitectures?.includes('x86_64') &&
          t.SupportedVirtualizationTypes?.includes('hvm') &&
          t.VCpuInfo?.DefaultVCpus === 2 &&
          t.MemoryInfo?.SizeInMiB === 8192 &&
          !t.BurstablePerformanceSupported &&
          !t.BareMetal,
      )
      .map((t) => String(t.InstanceType))
      .sort();
    expect(found).toEqual(expected);
    expect(found).toEqual(expect.arrayContaining(['m5.large', 'm6i.large', 'm7i.large']));
    expect(found).not.toContain('t3.large');
    expect(found).not.toContain('m7g.large');
  });

  it('includes burstable types when asked, and only them when required', async () => {
    // Act
    const included = await fitting({ ...twoBy8, BurstablePerformance: 'included' });
    const required = await fitting({ ...twoBy8, BurstablePerformance: 'required' });

    // Assess
    expect(included).toEqual(expect.arrayContaining(['t3.large', 'm5.large']));
    expect(required).toContain('t3.large');
    expect(required).not.toContain('m5.large');
  });

  it('answers arm64 types for arm64', async () => {
    // Act
    const found = await fitting(twoBy8, 'arm64' as never);

    // Assess
    expect(found).toContain('m7g.large');
    expect(found).not.toContain('m7i.large');
  });

  it('keeps only allowed patterns, or leaves out excluded ones, and refuses both', async () => {
    // Act
    const allowed = await fitting({ ...twoBy8, AllowedInstanceTypes: ['m7i*', 'm5.*'] });
    const excluded = await fitting({ ...twoBy8, ExcludedInstanceTypes: ['m5*'] });
    const both = await errorOf(
      ec2.send(
        new GetInstanceTypesFromInstanceRequirementsCommand({
          ArchitectureTypes: ['x86_64'],
          VirtualizationTypes: ['hvm'],
          InstanceRequirements: { ...twoBy8, AllowedInstanceTypes: ['m5.*'], ExcludedInstanceTypes: ['m6*'] },
        }),
      ),
    );

    // Assess
    expect(allowed.every((t) => t.startsWith('m7i') || t.startsWith('m5.'))).toBe(true);
    expect(allowed).toEqual(expect.arrayContaining(['m5.large', 'm7i.large']));
    expect(excluded.some((t) => t.startsWith('m5'))).toBe(false);
    expect(excluded).toContain('m7i.large');
    expect(both).toEqual({ name: 'InvalidParameterCombination', status: 400 });
  });

  it('limits generations when asked', async () => {
    // Act
    const current = await fitting({ ...twoBy8, InstanceGenerations: ['current'] });
    const previous = await fitting({ ...twoBy8, InstanceGenerations: ['previous'] });

    // Assess
    const generation = (name: string) => described.find((t) => t.InstanceType === name)?.CurrentGeneration;
    expect(current.length).toBeGreaterThan(0);
    expect(current.every((t) => generation(t) === true)).toBe(true);
    expect(previous.every((t) => generation(t) === false)).toBe(true);
  });

  it('pages with MaxResults and NextToken', async () => {
    // Act
    const first = await ec2.send(
      new GetInstanceTypesFromInstanceRequirementsCommand({
        ArchitectureTypes: ['x86_64'],
        VirtualizationTypes: ['hvm'],
        InstanceRequirements: twoBy8,
        MaxResults: 2,
      }),
    );
    const all = await fitting(twoBy8);

    // Assess
    expect(first.InstanceTypes?.map((t) => t.InstanceType)).toEqual(all.slice(0, 2));
    expect(first.NextToken).toBeDefined();
  });

  it('refuses a request without the required vCPU count', async () => {
    // Act
    const error = await errorOf(
      ec2.send(
        new GetInstanceTypesFromInstanceRequirementsCommand({
          ArchitectureTypes: ['x86_64'],
          VirtualizationTypes: ['hvm'],
          InstanceRequirements: { MemoryMiB: { Min: 1024 } } as never,
        }),
      ),
    );

    // Assess
    expect(error).toEqual({ name: 'MissingParameter', status: 400 });
  });
});

describe("moto's zone offerings, which ResolveRecipe narrows candidates with", () => {
  it('lists the types one availability zone offers', async () => {
    // Act
    const { InstanceTypeOfferings = [] } = await ec2.send(
      new DescribeInstanceTypeOfferingsCommand({
        LocationType: 'availability-zone',
        Filters: [{ Name: 'location', Values: ['us-east-1a'] }],
      }),
    );

    // Assess
    expect(InstanceTypeOfferings.length).toBeGreaterThan(100);
    expect(new Set(InstanceTypeOfferings.map((o) => o.Location))).toEqual(new Set(['us-east-1a']));
    expect(InstanceTypeOfferings.map((o) => o.InstanceType)).toContain('m7i.large');
  });
});

describe('capacity faults for one instance type', () => {
  it('answers InsufficientInstanceCapacity for the named type only', async () => {
    // Prepare
    layer().addFault({
      action: 'RunInstances',
      params: { InstanceType: 'm7i.large' },
      effect: 'error-before',
      error: { code: 'InsufficientInstanceCapacity', status: 500 },
    });

    // Act
    const refused = await errorOf(launch(ec2, { InstanceType: 'm7i.large' }));
    const other = await launch(ec2, { InstanceType: 'm6i.large' });

    // Assess
    expect(refused).toEqual({ name: 'InsufficientInstanceCapacity', status: 500 });
    expect(other).toMatch(/^i-/);
  });
});
