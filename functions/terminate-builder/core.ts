import { TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import type { Ec2Send } from '../../lib/aws/ec2.js';
import { liveInstances } from '../../lib/cleanup/builders.js';

export interface TerminateDeps {
  ec2: Ec2Send;
  now: () => Date;
}

/** Terminates the bake's builder(s), found by tag: a retried launch can never leave a twin behind. */
export async function terminateBuilder({ context }: { context: { bakeId: string } }, deps: TerminateDeps) {
  const instanceIds = await liveInstances(deps.ec2, context.bakeId);
  if (instanceIds.length > 0)
    await deps.ec2.send(new TerminateInstancesCommand({ InstanceIds: instanceIds }));
  return { instanceIds, at: deps.now().toISOString() };
}
