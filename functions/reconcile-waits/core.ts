import { logger } from '../../lib/logger.js';
import { emit } from '../../lib/metrics.js';
import { type CheckDeps, checkEachRegion } from '../../lib/waits/check.js';
import type { WaitStore } from '../../lib/waits/store.js';
import type { WaitRecord } from '../../lib/waits/types.js';

export interface ReconcileDeps extends CheckDeps {
  store: WaitStore;
  /** The status of a bake's execution (RUNNING, FAILED, …), or undefined when there is none. */
  executionStatus?: (bakeId: string) => Promise<string | undefined>;
}

/**
 * How long after a wait's budget ran out the execution must have timed it out (Step Functions
 * does at the budget; the reconciler runs every minute).
 */
export const OVERDUE_GRACE_SECONDS = 600;

/**
 * The fallback for waits whose event never came (EventBridge is at-least-once, not exactly-once;
 * a region whose events are not forwarded to this stack's bus). Every region is checked even if
 * another fails; a wait it answers is logged, since on the event path it should not have been left
 * to the reconciler (docs/deploy.md, "Regions").
 */
export async function reconcileWaits(deps: ReconcileDeps) {
  const records = await deps.store.all();
  const { answered, pending, failures } = await checkEachRegion(records, deps);
  const overBudget = await overdue(
    records.filter((r) => !answered.includes(r)),
    deps,
  );
  // Events missed (forwarding broken, a region not forwarded): the WaitsAnsweredByReconciler alarm.
  emit('WaitsAnswered', answered.length, { answeredBy: 'reconciler' });
  emit('BakesOverBudget', overBudget.length);
  for (const r of answered) {
    logger.warn('wait answered by the reconciler, not by an event', {
      resource: r.resource,
      region: r.region,
      bakeId: r.bakeId,
    });
  }
  for (const f of failures) {
    logger.error(`reconcile: checking ${f.kind} waits in ${f.region} failed: ${f.error}`, {
      region: f.region,
      kind: f.kind,
      waits: f.waits,
      errorName: f.error.split(':')[0],
    });
  }
  const result = {
    waiting: records.length,
    answered: answered.length,
    pending,
    overBudget,
    answeredResources: answered.map((r) => r.resource),
    errors: failures,
  };
  logger.info('reconciled waits', {
    waiting: result.waiting,
    answered: result.answered,
    pending,
    errors: failures.length,
  });
  return result;
}

/**
 * Bakes still running well after a wait's budget ran out: Step Functions should have timed the
 * wait out, so the budget the execution runs by is not the recipe's (a hand-started execution, a
 * definition edited in the console). A wait whose execution has ended was timed out as it should
 * have been, and is forgotten (its token is dead).
 */
async function overdue(records: WaitRecord[], deps: ReconcileDeps): Promise<string[]> {
  const status = deps.executionStatus;
  if (!status) return [];
  const limit = deps.now().getTime() - OVERDUE_GRACE_SECONDS * 1000;
  const late = records.filter((r) => Date.parse(r.deadline) < limit);
  const bakes = new Set<string>();
  for (const record of late) {
    const s = await status(record.bakeId).catch(() => 'UNKNOWN');
    if (s === 'RUNNING') {
      bakes.add(record.bakeId);
      logger.error('a bake is still running after a wait ran out of budget', {
        bakeId: record.bakeId,
        resource: record.resource,
        deadline: record.deadline,
      });
    } else if (s !== 'UNKNOWN') await deps.store.delete(record.resource);
  }
  return [...bakes];
}
