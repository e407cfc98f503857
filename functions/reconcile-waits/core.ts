import { logger } from '../../lib/logger.js';
import { type CheckDeps, checkWaits } from '../../lib/waits/check.js';
import type { WaitStore } from '../../lib/waits/store.js';

export interface ReconcileDeps extends CheckDeps {
  store: WaitStore;
}

/**
 * Answers every wait whose event was missed (EventBridge is at-least-once, not exactly-once, and
 * AMI copies happen in regions whose events never reach this stack's rule).
 */
export async function reconcileWaits(deps: ReconcileDeps) {
  const records = await deps.store.all();
  const result = await checkWaits(records, deps);
  logger.info('reconciled waits', { waiting: records.length, ...result });
  return { waiting: records.length, ...result };
}
