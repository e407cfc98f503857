import { DescribeInstancesCommand, StopInstancesCommand } from '@aws-sdk/client-ec2';
import type { Ec2Send } from '../../lib/aws/ec2.js';
import { BootstrapNoResultError, BuilderNotStoppedError } from '../../lib/errors.js';

export interface StopDeps {
  ec2: Ec2Send;
  now: () => Date;
}

export interface StopInput {
  builder: { instanceId: string };
  /** WaitForBuilder's output: `instanceState` is what its DescribeInstances saw. */
  bootstrap?: { instanceState?: string };
}

/**
 * Makes sure the builder is stopped before imaging. The wrapper powers it off, and WaitForBuilder
 * answers only for a stopped builder, saying so: then there is nothing to look at (nothing in the
 * pipeline starts a builder again). Otherwise (an execution started before waits said so) it looks:
 * asks EC2 to stop a running builder and throws, and the state machine retries later (no sleeping
 * inside a Lambda).
 */
export async function stopBuilder({ builder, bootstrap }: StopInput, deps: StopDeps) {
  if (bootstrap?.instanceState === 'stopped') return { at: deps.now().toISOString() };
  const { Reservations = [] } = await deps.ec2.send(
    new DescribeInstancesCommand({ Filters: [{ Name: 'instance-id', Values: [builder.instanceId] }] }),
  );
  const state = Reservations[0]?.Instances?.[0]?.State?.Name;
  if (state === 'stopped') return { at: deps.now().toISOString() };
  if (state === undefined || state === 'terminated' || state === 'shutting-down') {
    throw new BootstrapNoResultError(`builder ${builder.instanceId} is ${state ?? 'gone'}; nothing to image`);
  }
  if (state === 'running' || state === 'pending') {
    await deps.ec2.send(new StopInstancesCommand({ InstanceIds: [builder.instanceId] }));
  }
  throw new BuilderNotStoppedError(`builder ${builder.instanceId} is ${state}; waiting for it to stop`);
}
