import { logger } from '../../lib/logger.js';
import { type CheckDeps, checkEachRegion } from '../../lib/waits/check.js';
import type { WaitStore } from '../../lib/waits/store.js';

export interface ReconcileDeps extends CheckDeps {
  store: WaitStore;
}

/**
 * The fallback for waits whose event never came (EventBridge is at-least-once, not exactly-once;
 * a region whose events are not forwarded to this stack's bus). Every region is checked even if
 * another fails; a wait it answers is logged, since on the event path it should not have been left
 * to the reconciler (docs/deploy.md, "Regions").
 */
export async function reconcileWaits(deps: ReconcileDeps) {
  const records = await deps.store.all();
  const { answered, pending, failures } = await checkEachRegion(records, deps);
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
