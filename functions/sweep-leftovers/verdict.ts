import { BAKE_NOT_ANNOUNCED } from '../../lib/bakes/status.js';
import type { Leftover } from './inventory.js';

/**
 * What the sweeper does with one bake's leftovers:
 * - `leave`: nothing (the bake is running, or the sweeper cannot be sure it is over);
 * - `terminate-builders`: terminate its live instances, keep its images and snapshots (`keep`);
 * - `remove`: everything, through the cleanup core.
 */
export type Verdict =
  | { action: 'leave'; reason: string }
  | { action: 'terminate-builders'; reason: string; keep: string }
  | { action: 'remove'; reason: string };

/**
 * What to remove of an old bake that has no execution. Not only leaks: another stage's products
 * in the same account, and every product once Step Functions forgets its execution (90 days
 * after it closed) or the state machine is deleted, have none either.
 */
export type UnknownBakes = 'builders' | 'everything';

const ENDED_BADLY = new Set(['FAILED', 'ABORTED', 'TIMED_OUT']);
const PRODUCT = 'its images and snapshots are the product';

/**
 * @param execution The bake's execution: its status and, once it failed, the Error it ended with;
 *   undefined when no execution has its name (a local bake, another stack's, a deleted state
 *   machine, or one closed too long ago to be described).
 */
export function verdict(
  execution: { status: string; error?: string } | undefined,
  leftovers: readonly Leftover[],
  options: { now: Date; graceHours: number; unknownBakes: UnknownBakes },
): Verdict {
  const status = execution?.status;
  const builders = leftovers.some((l) => l.kind === 'instance');
  // FAILED so that alarms see it, but its images are finished and shared: consumers may already
  // use them (the event may have reached them and only its answer was lost). Never remove them.
  const delivered =
    status === 'SUCCEEDED'
      ? 'succeeded'
      : status === 'FAILED' && execution?.error === BAKE_NOT_ANNOUNCED
        ? 'images delivered, Bake Succeeded not published'
        : undefined;
  if (delivered) {
    const keep = `${delivered}: ${PRODUCT}`;
    return builders
      ? { action: 'terminate-builders', reason: `${delivered}: a builder is still alive`, keep }
      : { action: 'leave', reason: keep };
  }
  if (status !== undefined && ENDED_BADLY.has(status)) {
    return { action: 'remove', reason: `execution ${status}` };
  }
  if (status !== undefined) {
    // RUNNING, PENDING_REDRIVE (it may resume) or a status this code does not know yet.
    return { action: 'leave', reason: `execution ${status}` };
  }
  // An execution that was just started may not be visible yet (DescribeExecution is eventually
  // consistent), and another stack's bake may still be running: only old leftovers are touched.
  const { now, graceHours, unknownBakes } = options;
  const newest = Math.max(...leftovers.map((l) => l.createdAt?.getTime() ?? Number.POSITIVE_INFINITY));
  if ((now.getTime() - newest) / 3_600_000 < graceHours) {
    return { action: 'leave', reason: `no execution, but younger than ${graceHours} h` };
  }
  const old = `no execution, and older than ${graceHours} h`;
  if (unknownBakes === 'everything') return { action: 'remove', reason: old };
  const keep = `${old}: images and snapshots kept (SWEEP_UNKNOWN_BAKES=builders)`;
  return builders ? { action: 'terminate-builders', reason: old, keep } : { action: 'leave', reason: keep };
}
