import type { CheckDeps } from '../../lib/waits/check.js';
import { checkWaits } from '../../lib/waits/check.js';
import type { WaitStore } from '../../lib/waits/store.js';
import type { WaitRequest } from '../../lib/waits/types.js';

export interface RegisterDeps extends CheckDeps {
  store: WaitStore;
}

/**
 * Stores the task token keyed by the resource, then looks once: the resource may have reached
 * its state before the token was stored, and then no event would ever come for it.
 */
export async function registerWait(request: WaitRequest, deps: RegisterDeps) {
  const record = await deps.store.put(request, deps.now());
  const { answered } = await checkWaits([record], deps);
  return { resource: record.resource, deadline: record.deadline, answered: answered > 0 };
}
