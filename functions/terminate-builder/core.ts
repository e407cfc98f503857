import { TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import type { Ec2Send } from '../../lib/aws/ec2.js';
import { cancelSpotRequests, liveInstances } from '../../lib/cleanup/builders.js';

export interface TerminateDeps {
  ec2: Ec2Send;
  now: () => Date;
}

export interface TerminateInput {
  context: { bakeId: string };
  /** The recipe asked for Spot builders: the bake's Spot requests are cancelled first. */
  recipe?: { builder?: { spot?: unknown } };
}

/**
 * Terminates the bake's builder(s), found by tag: a retried launch can never leave a twin behind.
 * A Spot bake's persistent requests are cancelled first, or EC2 would launch a new builder.
 */
export async function terminateBuilder({ context, recipe }: TerminateInput, deps: TerminateDeps) {
  const spotRequestIds = recipe?.builder?.spot ? await cancelSpotRequests(deps.ec2, context.bakeId) : [];
  const instanceIds = await liveInstances(deps.ec2, context.bakeId);
  if (instanceIds.length > 0)
    await deps.ec2.send(new TerminateInstancesCommand({ InstanceIds: instanceIds }));
  return {
    instanceIds,
    ...(spotRequestIds.length > 0 ? { spotRequestIds } : {}),
    at: deps.now().toISOString(),
  };
}
