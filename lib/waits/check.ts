import type { Ec2Send } from '../aws/clients.js';
import { evaluateImages, evaluateInstances } from './evaluate.js';
import { type SettleDeps, settle } from './settle.js';
import type { Verdict, WaitRecord } from './types.js';

export interface CheckDeps extends SettleDeps {
  ec2: (region: string) => Ec2Send;
  now: () => Date;
}

/**
 * Looks at the resources behind some waits and answers those that are settled. Batched: one
 * Describe call per region and resource type, however many bakes are waiting.
 * `known` holds verdicts already learned elsewhere (an EC2 event saying an AMI failed).
 */
export async function checkWaits(
  records: readonly WaitRecord[],
  deps: CheckDeps,
  known: ReadonlyMap<string, Verdict> = new Map(),
): Promise<{ answered: number; pending: number }> {
  const groups = new Map<string, WaitRecord[]>();
  for (const r of records) {
    const key = `${r.kind}#${r.region}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  let answered = 0;
  for (const group of groups.values()) {
    const first = group[0];
    if (!first) continue;
    const ids = group.filter((r) => !known.has(r.resource)).map((r) => r.resourceId);
    const client = deps.ec2(first.region);
    const verdicts =
      ids.length === 0
        ? new Map<string, Verdict>()
        : first.kind === 'instance-stopped'
          ? await evaluateInstances(client, ids, deps.now())
          : await evaluateImages(client, first.region, ids, deps.now());
    for (const record of group) {
      const verdict = known.get(record.resource) ?? verdicts.get(record.resourceId) ?? { status: 'pending' };
      if (await settle(record, verdict, deps)) answered += 1;
    }
  }
  return { answered, pending: records.length - answered };
}
