import { ec2Error, ec2Params, listParam, type Reply, xmlReply } from './ec2-query.js';
import type { Upstream } from './server.js';
import { child, escapeXml, parseXml, select, text, type XmlElement } from './xml.js';

/** What the lookup needs of one type, read from moto's own DescribeInstanceTypes. */
export interface TypeFacts {
  name: string;
  architectures: string[];
  virtualization: string[];
  vCpus: number;
  memoryMiB: number;
  burstable: boolean;
  currentGeneration: boolean;
  bareMetal: boolean;
}

/**
 * GetInstanceTypesFromInstanceRequirements, which moto lacks (500): answered from moto's own
 * DescribeInstanceTypes data (read once per region: what a type is does not change), as EC2
 * documents it: every given attribute must hold, any of a list's values; burstable and bare-metal
 * types are excluded unless asked for; both generations unless limited; Allowed/Excluded patterns
 * with `*`; not both lists. Price protection does not apply to this action (EC2 says so); nor does
 * capacity. Not modelled: the other InstanceRequirements attributes (accelerators, network,
 * storage, CPU manufacturers), which ami-bake does not send.
 */
export class InstanceTypeCatalog {
  private readonly byRegion = new Map<string, Promise<TypeFacts[]>>();

  constructor(private readonly upstream: Upstream) {}

  async handle(region: string, action: string, params: URLSearchParams): Promise<Reply | undefined> {
    if (action !== 'GetInstanceTypesFromInstanceRequirements') return undefined;
    const problem = invalid(params);
    if (problem) return problem;
    const matching = (await this.facts(region)).filter(matcher(params)).map((t) => t.name);
    matching.sort();
    const offset = Number(params.get('NextToken') ?? 0);
    const size = Number(params.get('MaxResults') ?? 1000);
    const page = matching.slice(offset, offset + size);
    const next = offset + size < matching.length ? `<nextToken>${offset + size}</nextToken>` : '';
    const items = page.map((t) => `<item><instanceType>${escapeXml(t)}</instanceType></item>`).join('');
    return xmlReply(
      200,
      `<?xml version="1.0" encoding="UTF-8"?>\n<GetInstanceTypesFromInstanceRequirementsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>ami-bake-layer</requestId><instanceTypeSet>${items}</instanceTypeSet>${next}</GetInstanceTypesFromInstanceRequirementsResponse>`,
    );
  }

  /** Every type moto describes in the region. Only a complete read is kept. */
  facts(region: string): Promise<TypeFacts[]> {
    let found = this.byRegion.get(region);
    if (!found) {
      found = this.read(region);
      this.byRegion.set(region, found);
      found.catch(() => this.byRegion.delete(region));
    }
    return found;
  }

  private async read(region: string): Promise<TypeFacts[]> {
    const all: TypeFacts[] = [];
    let token: string | undefined;
    do {
      const reply = await this.upstream.ec2(
        region,
        ec2Params('DescribeInstanceTypes', { MaxResults: '100', ...(token ? { NextToken: token } : {}) }),
      );
      if (reply.status !== 200) throw new Error(`DescribeInstanceTypes answered ${reply.status}`);
      const root = parseXml(reply.body.toString()).root;
      all.push(...select(root, 'instanceTypeSet/item').map(factsOf));
      token = text(child(root, 'nextToken'));
    } while (token);
    return all;
  }
}

function factsOf(item: XmlElement): TypeFacts {
  const items = (path: string) => select(item, path).map((e) => text(e) ?? '');
  return {
    name: text(child(item, 'instanceType')) ?? '',
    architectures: items('processorInfo/supportedArchitectures/item'),
    virtualization: items('supportedVirtualizationTypes/item'),
    vCpus: Number(text(select(item, 'vCpuInfo/defaultVCpus')[0]) ?? 0),
    memoryMiB: Number(text(select(item, 'memoryInfo/sizeInMiB')[0]) ?? 0),
    burstable: text(child(item, 'burstablePerformanceSupported')) === 'true',
    currentGeneration: text(child(item, 'currentGeneration')) === 'true',
    bareMetal: text(child(item, 'bareMetal')) === 'true',
  };
}

const R = 'InstanceRequirements.';

function invalid(params: URLSearchParams): Reply | undefined {
  for (const required of [
    'ArchitectureType.1',
    'VirtualizationType.1',
    `${R}VCpuCount.Min`,
    `${R}MemoryMiB.Min`,
  ]) {
    if (!params.has(required))
      return ec2Error(
        400,
        'MissingParameter',
        `The request must contain the parameter ${required.replace(/\.1$/, '')}`,
      );
  }
  if (
    listParam(params, `${R}AllowedInstanceType`).length > 0 &&
    listParam(params, `${R}ExcludedInstanceType`).length > 0
  )
    return ec2Error(
      400,
      'InvalidParameterCombination',
      'You can specify AllowedInstanceTypes or ExcludedInstanceTypes, but not both.',
    );
  return undefined;
}

function matcher(params: URLSearchParams): (t: TypeFacts) => boolean {
  const num = (name: string) => (params.has(name) ? Number(params.get(name)) : undefined);
  const within = (value: number, prefix: string) =>
    value >= (num(`${prefix}.Min`) ?? 0) && value <= (num(`${prefix}.Max`) ?? Number.POSITIVE_INFINITY);
  const architectures = listParam(params, 'ArchitectureType');
  const virtualization = listParam(params, 'VirtualizationType');
  const generations = listParam(params, `${R}InstanceGeneration`);
  const burstable = params.get(`${R}BurstablePerformance`) ?? 'excluded';
  const bareMetal = params.get(`${R}BareMetal`) ?? 'excluded';
  const allowed = listParam(params, `${R}AllowedInstanceType`).map(pattern);
  const excluded = listParam(params, `${R}ExcludedInstanceType`).map(pattern);
  const inclusion = (setting: string, has: boolean) =>
    setting === 'included' || (setting === 'required' ? has : !has);
  return (t) =>
    t.architectures.some((a) => architectures.includes(a)) &&
    t.virtualization.some((v) => virtualization.includes(v)) &&
    within(t.vCpus, `${R}VCpuCount`) &&
    within(t.memoryMiB, `${R}MemoryMiB`) &&
    inclusion(burstable, t.burstable) &&
    inclusion(bareMetal, t.bareMetal) &&
    (generations.length === 0 || generations.includes(t.currentGeneration ? 'current' : 'previous')) &&
    (allowed.length === 0 || allowed.some((p) => p.test(t.name))) &&
    !excluded.some((p) => p.test(t.name));
}

/** EC2's instance-type patterns: `*` matches any characters (m5.*, c5*.*, *3*). */
function pattern(p: string): RegExp {
  return new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*')}$`);
}
