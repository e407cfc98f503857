import { SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import type { SfnSend } from '../aws/sfn.js';
import { logger } from '../logger.js';
import type { WaitStore } from './store.js';
import type { Verdict, WaitRecord } from './types.js';

export interface SettleDeps {
  sfn: SfnSend;
  store: WaitStore;
}

/** Errors meaning the execution no longer waits for this token (answered, timed out, stopped). */
const STALE = new Set(['TaskDoesNotExist', 'TaskTimedOut', 'InvalidToken']);

/**
 * Answers a wait and forgets it. Safe to run twice for one record (an event and the reconciler
 * may race): the second answer meets a stale token, which is not an error.
 */
export async function settle(record: WaitRecord, verdict: Verdict, deps: SettleDeps): Promise<boolean> {
  if (verdict.status === 'pending') return false;
  try {
    if (verdict.status === 'success') {
      await deps.sfn.send(
        new SendTaskSuccessCommand({ taskToken: record.taskToken, output: JSON.stringify(verdict.output) }),
      );
    } else {
      await deps.sfn.send(
        new SendTaskFailureCommand({
          taskToken: record.taskToken,
          error: verdict.error,
          cause: verdict.cause.slice(0, 32_000),
        }),
      );
    }
  } catch (error) {
    if (!STALE.has((error as Error).name)) throw error;
    logger.info('wait already answered or gone', {
      resource: record.resource,
      reason: (error as Error).name,
    });
  }
  await deps.store.delete(record.resource);
  logger.info('wait answered', { resource: record.resource, bakeId: record.bakeId, status: verdict.status });
  return true;
}
