import type { Ec2Send } from '../aws/ec2.js';
import { evaluateImages, evaluateInstances } from './evaluate.js';
import { type SettleDeps, settle } from './settle.js';
import type { Verdict, WaitKind, WaitRecord } from './types.js';

export interface CheckDeps extends SettleDeps {
  ec2: (region: string) => Ec2Send;
  now: () => Date;
}

/** One region and resource kind whose check failed; its waits stay pending for the next run. */
export interface RegionFailure {
  region: string;
  kind: WaitKind;
  waits: number;
  error: string;
}

export interface RegionChecks {
  answered: WaitRecord[];
  pending: number;
  failures: RegionFailure[];
}

/**
 * Looks at the resources behind some waits and answers those that are settled. Batched: one
 * Describe call per region and resource type, however many bakes are waiting.
 * `known` holds verdicts already learned elsewhere (an EC2 event saying an AMI failed).
 * The first failing region's error is thrown (an event's Lambda retry then tries again).
 */
export async function checkWaits(
  records: readonly WaitRecord[],
  deps: CheckDeps,
  known: ReadonlyMap<string, Verdict> = new Map(),
): Promise<{ answered: number; pending: number }> {
  let answered = 0;
  for (const group of byRegionAndKind(records)) answered += (await checkGroup(group, deps, known)).length;
  return { answered, pending: records.length - answered };
}

/**
 * checkWaits for the reconciler: every region is checked even when another one fails (an EC2
 * outage or throttling in one region must not leave the other regions' bakes waiting), and the
 * failures are returned instead of thrown.
 */
export async function checkEachRegion(
  records: readonly WaitRecord[],
  deps: CheckDeps,
): Promise<RegionChecks> {
  const answered: WaitRecord[] = [];
  const failures: RegionFailure[] = [];
  for (const group of byRegionAndKind(records)) {
    try {
      answered.push(...(await checkGroup(group, deps, new Map())));
    } catch (error) {
      const first = group[0] as WaitRecord;
      const e = error as Error;
      failures.push({
        region: first.region,
        kind: first.kind,
        waits: group.length,
        error: `${e.name}: ${e.message}`,
      });
    }
  }
  return { answered, pending: records.length - answered.length, failures };
}

function byRegionAndKind(records: readonly WaitRecord[]): WaitRecord[][] {
  const groups = new Map<string, WaitRecord[]>();
  for (const r of records) {
    const key = `${r.kind}#${r.region}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()];
}

/** One Describe for a group of one region and kind; returns the records it answered. */
async function checkGroup(
  group: readonly WaitRecord[],
  deps: CheckDeps,
  known: ReadonlyMap<string, Verdict>,
): Promise<WaitRecord[]> {
  const first = group[0];
  if (!first) return [];
  const ids = group.filter((r) => !known.has(r.resource)).map((r) => r.resourceId);
  const client = deps.ec2(first.region);
  const verdicts =
    ids.length === 0
      ? new Map<string, Verdict>()
      : first.kind === 'instance-stopped'
        ? await evaluateInstances(client, ids, deps.now())
        : await evaluateImages(client, first.region, ids, deps.now());
  const answered: WaitRecord[] = [];
  for (const record of group) {
    const verdict = known.get(record.resource) ?? verdicts.get(record.resourceId) ?? { status: 'pending' };
    if (await settle(record, verdict, deps)) answered.push(record);
  }
  return answered;
}
