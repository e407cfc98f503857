import {
  CancelSpotInstanceRequestsCommand,
  DescribeInstancesCommand,
  DescribeSpotInstanceRequestsCommand,
} from '@aws-sdk/client-ec2';
import type { Ec2Send } from '../aws/ec2.js';
import { bakeFilter } from '../tags.js';

/**
 * The bake's builders that are not terminated or on their way, found by tag. Shared by
 * TerminateBuilder and the cleanup core, which both end them.
 */
export async function liveInstances(ec2: Ec2Send, bakeId: string): Promise<string[]> {
  const { Reservations = [] } = await ec2.send(
    new DescribeInstancesCommand({
      Filters: [
        bakeFilter(bakeId),
        { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
      ],
    }),
  );
  return Reservations.flatMap((r) => r.Instances ?? []).flatMap((i) => (i.InstanceId ? [i.InstanceId] : []));
}

/**
 * Cancels the bake's Spot requests (open, active or disabled), found by tag; returns their ids. A
 * Spot builder comes from a persistent request (it must stop to be imaged), and EC2 launches a new
 * instance for a persistent request whose instance is terminated, so this runs before terminating.
 * Cancelling leaves the instance running. Only for bakes whose recipe asked for Spot: the others
 * make no Spot requests, and no call.
 */
export async function cancelSpotRequests(ec2: Ec2Send, bakeId: string): Promise<string[]> {
  const { SpotInstanceRequests = [] } = await ec2.send(
    new DescribeSpotInstanceRequestsCommand({
      Filters: [bakeFilter(bakeId), { Name: 'state', Values: ['open', 'active', 'disabled'] }],
    }),
  );
  const ids = SpotInstanceRequests.flatMap((r) => (r.SpotInstanceRequestId ? [r.SpotInstanceRequestId] : []));
  if (ids.length > 0) await ec2.send(new CancelSpotInstanceRequestsCommand({ SpotInstanceRequestIds: ids }));
  return ids;
}
