import * as z from 'zod';
import { logger } from '../../lib/logger.js';
import { emit } from '../../lib/metrics.js';
import { type CheckDeps, checkWaits } from '../../lib/waits/check.js';
import { imageFailure } from '../../lib/waits/evaluate.js';
import type { WaitStore } from '../../lib/waits/store.js';
import { resourceKey, type Verdict } from '../../lib/waits/types.js';

/** The two EC2 events (default bus) that can end a wait. */
export const ec2EventSchema = z.discriminatedUnion('detail-type', [
  z.object({
    'detail-type': z.literal('EC2 Instance State-change Notification'),
    region: z.string(),
    /** When EC2 saw the change: the detection lag is measured from here. */
    time: z.string().optional(),
    detail: z.object({ 'instance-id': z.string(), state: z.string() }),
  }),
  z.object({
    'detail-type': z.literal('EC2 AMI State Change'),
    region: z.string(),
    time: z.string().optional(),
    detail: z.object({ ImageId: z.string(), State: z.string(), ErrorMessage: z.string().optional() }),
  }),
]);
export type Ec2Event = z.infer<typeof ec2EventSchema>;

export interface ResumeDeps extends CheckDeps {
  store: WaitStore;
}

/**
 * The states a wait can end in (success or failure). The deployed rule delivers only these
 * (serverless.yml); the local runner delivers every event, and a "pending" or "running" event
 * would cost a GetItem and a Describe that can only answer "keep waiting".
 */
const ENDS_A_WAIT = {
  'EC2 Instance State-change Notification': new Set(['stopped', 'shutting-down', 'terminated']),
  'EC2 AMI State Change': new Set(['available', 'failed', 'deregistered', 'error']),
} as const;

/** Resumes the wait (if any) for the resource an EC2 event is about. Unrelated events are ignored. */
export async function resumeWait(event: Ec2Event, deps: ResumeDeps) {
  const resource =
    event['detail-type'] === 'EC2 Instance State-change Notification'
      ? resourceKey('instance-stopped', event.region, event.detail['instance-id'])
      : resourceKey('image-available', event.region, event.detail.ImageId);
  const state = event['detail-type'] === 'EC2 AMI State Change' ? event.detail.State : event.detail.state;
  if (!ENDS_A_WAIT[event['detail-type']].has(state)) return { resource, answered: false };
  const record = await deps.store.get(resource);
  if (!record) return { resource, answered: false };
  const known = new Map<string, Verdict>();
  // A failed AMI says why only in the event; DescribeImages may already have forgotten it.
  if (
    event['detail-type'] === 'EC2 AMI State Change' &&
    ['failed', 'deregistered', 'error'].includes(event.detail.State)
  ) {
    known.set(
      resource,
      imageFailure(event.region, event.detail.ImageId, event.detail.State, event.detail.ErrorMessage),
    );
  }
  const { answered } = await checkWaits([record], deps, known);
  logger.info('EC2 event handled', { resource, answered });
  if (answered > 0) {
    emit('WaitsAnswered', 1, { answeredBy: 'event' });
    const changed = event.time ? Date.parse(event.time) : Number.NaN;
    if (Number.isFinite(changed)) {
      emit('WaitDetectionLag', Math.max(0, (deps.now().getTime() - changed) / 1000), { answeredBy: 'event' });
    }
  }
  return { resource, answered: answered > 0 };
}
